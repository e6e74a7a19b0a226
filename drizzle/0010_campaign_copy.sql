ALTER TABLE "sends" ALTER COLUMN "html" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "sends" ALTER COLUMN "text" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "campaigns" ADD COLUMN "frozen_content" jsonb;--> statement-breakpoint
ALTER TABLE "sends" ADD COLUMN "copy_context" json;--> statement-breakpoint
CREATE INDEX "sends_body_kept_idx" ON "sends" USING btree ("created_at") WHERE "sends"."html" is not null or "sends"."copy_context" is not null;