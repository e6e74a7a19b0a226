CREATE TABLE "enrollment_outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"site_id" integer NOT NULL,
	"sequence_id" integer NOT NULL,
	"contact_id" integer NOT NULL,
	"source" text NOT NULL,
	"enrollment_id" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "enrollment_outbox" ADD CONSTRAINT "enrollment_outbox_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "enrollment_outbox" ADD CONSTRAINT "enrollment_outbox_sequence_id_sequences_id_fk" FOREIGN KEY ("sequence_id") REFERENCES "public"."sequences"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "enrollment_outbox" ADD CONSTRAINT "enrollment_outbox_contact_id_contacts_id_fk" FOREIGN KEY ("contact_id") REFERENCES "public"."contacts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "enrollment_outbox" ADD CONSTRAINT "enrollment_outbox_enrollment_id_enrollments_id_fk" FOREIGN KEY ("enrollment_id") REFERENCES "public"."enrollments"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "enrollment_outbox_contact_idx" ON "enrollment_outbox" USING btree ("contact_id");--> statement-breakpoint
CREATE INDEX "enrollment_outbox_enrollment_idx" ON "enrollment_outbox" USING btree ("enrollment_id");
--> statement-breakpoint
-- Sequence triggers, staged by PostgreSQL in the transaction that adds a contact to a list or a tag, so
-- every way of adding one (API, bulk upsert, CSV import) starts the journeys, and a crash or a Temporal
-- outage after the commit cannot lose them (src/services/enrollment-outbox.ts drains this table).
-- Statement-level with a transition table: a 10,000-row import batch costs one join, not 10,000 calls;
-- rows skipped by ON CONFLICT DO NOTHING (already a member) are not in the transition table.
CREATE FUNCTION "stage_list_add_enrollments"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Most additions (an import into a list no sequence listens to) stop here, before any join.
  IF NOT EXISTS (SELECT 1 FROM "sequences" WHERE "status" = 'active' AND "trigger"->>'type' = 'list_add') THEN
    RETURN NULL;
  END IF;
  INSERT INTO "enrollment_outbox" ("site_id", "sequence_id", "contact_id", "source")
  SELECT c."site_id", s."id", a."contact_id", 'list_add'
  FROM "added_list_members" a
  JOIN "contacts" c ON c."id" = a."contact_id"
  JOIN "sequences" s ON s."site_id" = c."site_id"
    AND s."status" = 'active'
    AND s."trigger"->>'type' = 'list_add'
    AND (s."trigger"->>'listId')::int = a."list_id";
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER "list_members_stage_enrollments" AFTER INSERT ON "list_members"
  REFERENCING NEW TABLE AS "added_list_members"
  FOR EACH STATEMENT EXECUTE FUNCTION "stage_list_add_enrollments"();
--> statement-breakpoint
CREATE FUNCTION "stage_tag_add_enrollments"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Most tagging (an import's tags that no sequence listens for) stops here, before any join.
  IF NOT EXISTS (SELECT 1 FROM "sequences" WHERE "status" = 'active' AND "trigger"->>'type' = 'tag_add') THEN
    RETURN NULL;
  END IF;
  INSERT INTO "enrollment_outbox" ("site_id", "sequence_id", "contact_id", "source")
  SELECT c."site_id", s."id", a."contact_id", 'tag_add'
  FROM "added_contact_tags" a
  JOIN "contacts" c ON c."id" = a."contact_id"
  JOIN "sequences" s ON s."site_id" = c."site_id"
    AND s."status" = 'active'
    AND s."trigger"->>'type' = 'tag_add'
    AND (s."trigger"->>'tagId')::int = a."tag_id";
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER "contact_tags_stage_enrollments" AFTER INSERT ON "contact_tags"
  REFERENCING NEW TABLE AS "added_contact_tags"
  FOR EACH STATEMENT EXECUTE FUNCTION "stage_tag_add_enrollments"();
