CREATE TABLE "exported_assets" (
	"id" serial PRIMARY KEY NOT NULL,
	"team_id" integer NOT NULL,
	"dashboard_id" integer,
	"insight_id" integer,
	"export_format" varchar(100) NOT NULL,
	"content_key" text,
	"created_by_id" integer,
	"export_context" jsonb,
	"exception" text,
	"exception_type" varchar(255),
	"created_at" timestamp(6) with time zone DEFAULT now() NOT NULL,
	"expires_after" timestamp(6) with time zone
);
--> statement-breakpoint
ALTER TABLE "exported_assets" ADD CONSTRAINT "exported_assets_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "exported_assets" ADD CONSTRAINT "exported_assets_created_by_id_users_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "exported_assets_team_creator" ON "exported_assets" USING btree ("team_id","created_by_id","created_at");--> statement-breakpoint
CREATE INDEX "exported_assets_created_by" ON "exported_assets" USING btree ("created_by_id");--> statement-breakpoint
CREATE INDEX "exported_assets_expires_after" ON "exported_assets" USING btree ("expires_after");