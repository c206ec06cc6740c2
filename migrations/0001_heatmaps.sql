CREATE TABLE "heatmap_snapshots" (
	"id" uuid PRIMARY KEY NOT NULL,
	"heatmap_id" uuid NOT NULL,
	"width" integer NOT NULL,
	"content" "bytea",
	"content_location" text,
	"created_at" timestamp(6) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "saved_heatmaps" (
	"id" uuid PRIMARY KEY NOT NULL,
	"team_id" integer NOT NULL,
	"short_id" varchar(12) NOT NULL,
	"name" varchar(400),
	"url" varchar(2000) NOT NULL,
	"data_url" varchar(2000),
	"target_widths" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"type" varchar(20) DEFAULT 'screenshot' NOT NULL,
	"status" varchar(20) DEFAULT 'processing' NOT NULL,
	"block_consent_modals" boolean DEFAULT false NOT NULL,
	"created_by_id" integer,
	"exception" text,
	"deleted" boolean DEFAULT false NOT NULL,
	"render_generation" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp(6) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp(6) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "heatmap_snapshots" ADD CONSTRAINT "heatmap_snapshots_heatmap_id_saved_heatmaps_id_fk" FOREIGN KEY ("heatmap_id") REFERENCES "public"."saved_heatmaps"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "saved_heatmaps" ADD CONSTRAINT "saved_heatmaps_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "saved_heatmaps" ADD CONSTRAINT "saved_heatmaps_created_by_id_users_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "heatmap_snapshots_heatmap_width" ON "heatmap_snapshots" USING btree ("heatmap_id","width");--> statement-breakpoint
CREATE UNIQUE INDEX "saved_heatmaps_team_short_id" ON "saved_heatmaps" USING btree ("team_id","short_id");--> statement-breakpoint
CREATE INDEX "saved_heatmaps_team_list" ON "saved_heatmaps" USING btree ("team_id","deleted","updated_at");--> statement-breakpoint
CREATE INDEX "saved_heatmaps_team_url" ON "saved_heatmaps" USING btree ("team_id","url");--> statement-breakpoint
CREATE INDEX "saved_heatmaps_created_by" ON "saved_heatmaps" USING btree ("created_by_id");--> statement-breakpoint
CREATE INDEX "saved_heatmaps_processing" ON "saved_heatmaps" USING btree ("updated_at") WHERE status = 'processing';