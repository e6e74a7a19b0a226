CREATE TYPE "public"."provider_name" AS ENUM('resend', 'smtp', 'log');--> statement-breakpoint
CREATE TYPE "public"."send_kind" AS ENUM('transactional', 'campaign', 'sequence');--> statement-breakpoint
CREATE TYPE "public"."send_status" AS ENUM('queued', 'sent', 'delivered', 'delivery_delayed', 'bounced', 'complained', 'failed', 'suppressed');--> statement-breakpoint
CREATE TYPE "public"."suppression_reason" AS ENUM('hard_bounce', 'complaint', 'unsubscribe', 'manual');--> statement-breakpoint
CREATE TABLE "send_rate_limits" (
	"sending_config_id" integer PRIMARY KEY NOT NULL,
	"tat" timestamp (6) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sending_configs" (
	"id" serial PRIMARY KEY NOT NULL,
	"site_id" integer NOT NULL,
	"name" text NOT NULL,
	"provider" "provider_name" NOT NULL,
	"from_email" text NOT NULL,
	"from_name" text,
	"reply_to" text,
	"credentials_encrypted" text NOT NULL,
	"max_per_second" integer,
	"track_opens" boolean DEFAULT true NOT NULL,
	"track_clicks" boolean DEFAULT true NOT NULL,
	"webhook_secret_encrypted" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sends" (
	"id" serial PRIMARY KEY NOT NULL,
	"site_id" integer NOT NULL,
	"kind" "send_kind" NOT NULL,
	"contact_id" integer,
	"to_email" text NOT NULL,
	"cc" jsonb,
	"bcc" jsonb,
	"reply_to" text,
	"headers" jsonb,
	"subject" text NOT NULL,
	"html" text NOT NULL,
	"text" text NOT NULL,
	"sending_config_id" integer NOT NULL,
	"template_id" integer,
	"campaign_id" integer,
	"sequence_id" integer,
	"step_id" integer,
	"enrollment_id" text,
	"provider_message_id" text,
	"status" "send_status" DEFAULT 'queued' NOT NULL,
	"error" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"idempotency_key" text NOT NULL,
	"workflow_id" text,
	"sent_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "suppressions" (
	"id" serial PRIMARY KEY NOT NULL,
	"site_id" integer NOT NULL,
	"email" text NOT NULL,
	"reason" "suppression_reason" NOT NULL,
	"note" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "templates" (
	"id" serial PRIMARY KEY NOT NULL,
	"site_id" integer NOT NULL,
	"name" text NOT NULL,
	"subject" text NOT NULL,
	"html" text NOT NULL,
	"text" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "send_rate_limits" ADD CONSTRAINT "send_rate_limits_sending_config_id_sending_configs_id_fk" FOREIGN KEY ("sending_config_id") REFERENCES "public"."sending_configs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sending_configs" ADD CONSTRAINT "sending_configs_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sends" ADD CONSTRAINT "sends_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sends" ADD CONSTRAINT "sends_contact_id_contacts_id_fk" FOREIGN KEY ("contact_id") REFERENCES "public"."contacts"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sends" ADD CONSTRAINT "sends_sending_config_id_sending_configs_id_fk" FOREIGN KEY ("sending_config_id") REFERENCES "public"."sending_configs"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sends" ADD CONSTRAINT "sends_template_id_templates_id_fk" FOREIGN KEY ("template_id") REFERENCES "public"."templates"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "suppressions" ADD CONSTRAINT "suppressions_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "templates" ADD CONSTRAINT "templates_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "sending_configs_site_idx" ON "sending_configs" USING btree ("site_id");--> statement-breakpoint
CREATE UNIQUE INDEX "sends_idempotency_key_uq" ON "sends" USING btree ("idempotency_key");--> statement-breakpoint
CREATE INDEX "sends_site_created_idx" ON "sends" USING btree ("site_id","id");--> statement-breakpoint
CREATE INDEX "sends_contact_idx" ON "sends" USING btree ("contact_id");--> statement-breakpoint
CREATE INDEX "sends_provider_message_idx" ON "sends" USING btree ("provider_message_id");--> statement-breakpoint
CREATE INDEX "sends_campaign_idx" ON "sends" USING btree ("campaign_id");--> statement-breakpoint
CREATE INDEX "sends_sequence_idx" ON "sends" USING btree ("sequence_id");--> statement-breakpoint
CREATE UNIQUE INDEX "suppressions_site_email_uq" ON "suppressions" USING btree ("site_id","email");--> statement-breakpoint
CREATE INDEX "templates_site_idx" ON "templates" USING btree ("site_id");