DROP INDEX "sends_provider_message_idx";--> statement-breakpoint
DROP INDEX "sends_sequence_idx";--> statement-breakpoint
CREATE INDEX "sends_provider_message_idx" ON "sends" USING btree ("provider_message_id") WHERE "sends"."provider_message_id" is not null;--> statement-breakpoint
CREATE INDEX "sends_sequence_idx" ON "sends" USING btree ("sequence_id") WHERE "sends"."sequence_id" is not null;