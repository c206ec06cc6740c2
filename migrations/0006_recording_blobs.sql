CREATE TABLE "blobs" (
	"key" text PRIMARY KEY NOT NULL,
	"content" "bytea" NOT NULL,
	"created_at" timestamp(6) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "recording_blocks" ADD COLUMN "blob_key" text;--> statement-breakpoint
UPDATE "recording_blocks" SET "blob_key" = 'recordings/' || "team_id" || '/' || "uuid" || '-' || "id";--> statement-breakpoint
INSERT INTO "blobs" ("key", "content") SELECT "blob_key", "content" FROM "recording_blocks";--> statement-breakpoint
ALTER TABLE "recording_blocks" ALTER COLUMN "blob_key" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "recording_blocks" DROP COLUMN "content";
