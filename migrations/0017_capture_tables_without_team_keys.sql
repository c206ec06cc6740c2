ALTER TABLE "events" DROP CONSTRAINT "events_team_id_teams_id_fk";
--> statement-breakpoint
ALTER TABLE "heatmap_pages" DROP CONSTRAINT "heatmap_pages_team_id_teams_id_fk";
--> statement-breakpoint
ALTER TABLE "heatmap_points" DROP CONSTRAINT "heatmap_points_team_id_teams_id_fk";
--> statement-breakpoint
ALTER TABLE "raw_sessions" DROP CONSTRAINT "raw_sessions_team_id_teams_id_fk";
--> statement-breakpoint
ALTER TABLE "recording_blocks" DROP CONSTRAINT "recording_blocks_team_id_teams_id_fk";
--> statement-breakpoint
ALTER TABLE "recording_console_logs" DROP CONSTRAINT "recording_console_logs_team_id_teams_id_fk";
--> statement-breakpoint
ALTER TABLE "session_recordings" DROP CONSTRAINT "session_recordings_team_id_teams_id_fk";
--> statement-breakpoint
-- The tables capture writes keep no foreign key to teams (src/db/schema/columns.ts, captureTeamId): their rows go
-- with their team by this trigger, as the keys' cascade did.
CREATE FUNCTION "teams_delete_capture_rows"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM "events" WHERE "team_id" = OLD."id";
  DELETE FROM "heatmap_points" WHERE "team_id" = OLD."id";
  DELETE FROM "heatmap_pages" WHERE "team_id" = OLD."id";
  DELETE FROM "raw_sessions" WHERE "team_id" = OLD."id";
  DELETE FROM "session_recordings" WHERE "team_id" = OLD."id";
  DELETE FROM "recording_blocks" WHERE "team_id" = OLD."id";
  DELETE FROM "recording_console_logs" WHERE "team_id" = OLD."id";
  RETURN OLD;
END
$$;
--> statement-breakpoint
CREATE TRIGGER "teams_delete_capture_rows" AFTER DELETE ON "teams" FOR EACH ROW EXECUTE FUNCTION "teams_delete_capture_rows"();
