CREATE TABLE "session_recording_viewed" (
	"team_id" integer NOT NULL,
	"user_id" integer NOT NULL,
	"session_id" varchar(200) NOT NULL,
	"bulk_viewed" boolean DEFAULT false NOT NULL,
	"created_at" timestamp(6) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "session_recording_viewed_team_id_user_id_session_id_pk" PRIMARY KEY("team_id","user_id","session_id")
);
--> statement-breakpoint
ALTER TABLE "session_recordings" ADD COLUMN "deleted_at" timestamp(6) with time zone;--> statement-breakpoint
ALTER TABLE "session_recordings" ADD COLUMN "deleted_by" varchar(254);--> statement-breakpoint
ALTER TABLE "session_recording_viewed" ADD CONSTRAINT "session_recording_viewed_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "session_recording_viewed" ADD CONSTRAINT "session_recording_viewed_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "session_recording_viewed_session" ON "session_recording_viewed" USING btree ("team_id","session_id");