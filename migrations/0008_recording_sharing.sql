CREATE TABLE "share_passwords" (
	"id" serial PRIMARY KEY NOT NULL,
	"sharing_configuration_id" integer NOT NULL,
	"created_at" timestamp(6) with time zone DEFAULT now() NOT NULL,
	"note" varchar(100),
	"created_by_id" integer,
	"is_active" boolean DEFAULT true NOT NULL,
	"password_hash" varchar(300) NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sharing_configurations" (
	"id" serial PRIMARY KEY NOT NULL,
	"team_id" integer NOT NULL,
	"recording_id" varchar(200) NOT NULL,
	"created_at" timestamp(6) with time zone DEFAULT now() NOT NULL,
	"enabled" boolean DEFAULT false NOT NULL,
	"access_token" varchar(400) NOT NULL,
	"expires_at" timestamp(6) with time zone,
	"settings" jsonb,
	"password_required" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
ALTER TABLE "share_passwords" ADD CONSTRAINT "share_passwords_sharing_configuration_id_sharing_configurations_id_fk" FOREIGN KEY ("sharing_configuration_id") REFERENCES "public"."sharing_configurations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "share_passwords" ADD CONSTRAINT "share_passwords_created_by_id_users_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sharing_configurations" ADD CONSTRAINT "sharing_configurations_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "share_passwords_configuration" ON "share_passwords" USING btree ("sharing_configuration_id");--> statement-breakpoint
CREATE UNIQUE INDEX "sharing_configurations_access_token" ON "sharing_configurations" USING btree ("access_token");--> statement-breakpoint
CREATE INDEX "sharing_configurations_recording" ON "sharing_configurations" USING btree ("team_id","recording_id");