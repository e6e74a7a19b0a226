CREATE TABLE "import_batches" (
	"import_id" integer NOT NULL,
	"seq" integer NOT NULL,
	"first_line" integer NOT NULL,
	"csv" text NOT NULL,
	CONSTRAINT "import_batches_import_id_seq_pk" PRIMARY KEY("import_id","seq")
);
--> statement-breakpoint
ALTER TABLE "imports" ADD COLUMN "header" jsonb;--> statement-breakpoint
ALTER TABLE "imports" ADD COLUMN "delimiter" text;--> statement-breakpoint
ALTER TABLE "imports" ADD COLUMN "batch_count" integer;--> statement-breakpoint
ALTER TABLE "imports" ADD COLUMN "next_batch" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "imports" ADD COLUMN "error" text;--> statement-breakpoint
ALTER TABLE "import_batches" ADD CONSTRAINT "import_batches_import_id_imports_id_fk" FOREIGN KEY ("import_id") REFERENCES "public"."imports"("id") ON DELETE cascade ON UPDATE no action;