CREATE TABLE "enrollment_jobs" (
	"id" serial PRIMARY KEY NOT NULL,
	"site_id" integer NOT NULL,
	"sequence_id" integer NOT NULL,
	"source_kind" text NOT NULL,
	"source_id" integer NOT NULL,
	"total" integer DEFAULT 0 NOT NULL,
	"enrolled" integer DEFAULT 0 NOT NULL,
	"started" integer DEFAULT 0 NOT NULL,
	"already_active" integer DEFAULT 0 NOT NULL,
	"already_enrolled" integer DEFAULT 0 NOT NULL,
	"skipped" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "enrollment_outbox" ADD COLUMN "job_id" integer;--> statement-breakpoint
ALTER TABLE "enrollment_jobs" ADD CONSTRAINT "enrollment_jobs_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "enrollment_jobs" ADD CONSTRAINT "enrollment_jobs_sequence_id_sequences_id_fk" FOREIGN KEY ("sequence_id") REFERENCES "public"."sequences"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "enrollment_jobs_sequence_idx" ON "enrollment_jobs" USING btree ("sequence_id");--> statement-breakpoint
ALTER TABLE "enrollment_outbox" ADD CONSTRAINT "enrollment_outbox_job_id_enrollment_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."enrollment_jobs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "enrollment_outbox_job_idx" ON "enrollment_outbox" USING btree ("job_id");