CREATE TABLE "events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"team_id" integer NOT NULL,
	"uuid" uuid NOT NULL,
	"event" varchar(400) NOT NULL,
	"distinct_id" varchar(200) NOT NULL,
	"timestamp" timestamp(6) with time zone NOT NULL,
	"properties" jsonb NOT NULL,
	"session_id" varchar(200),
	"window_id" varchar(200),
	"current_url" text,
	"created_at" timestamp(6) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "events" ADD CONSTRAINT "events_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "events_team_uuid" ON "events" USING btree ("team_id","uuid");--> statement-breakpoint
CREATE INDEX "events_team_timestamp" ON "events" USING btree ("team_id","timestamp");--> statement-breakpoint
CREATE INDEX "events_team_session" ON "events" USING btree ("team_id","session_id","timestamp");--> statement-breakpoint
CREATE INDEX "events_team_event" ON "events" USING btree ("team_id","event","timestamp");