/**
 * Version 8 (issue 10 §1, recipients in signed commands): which alert or live relay each fanned-out command id is
 * about, and the acknowledgements and plays that came from clusters a command never targeted. In its own file, like
 * versions 6 and 7.
 */
export const RECIPIENTS_MIGRATION = {
  version: 8,
  name: 'fan-out commands and reports from untargeted clusters',
  sql: `
-- Every command id sent to many clusters (an alert's or live relay's ack id, of every revision; an alert-cancel; a
-- live-stop) and the thing whose targets it went to, so an acknowledgement can be checked against those targets.
CREATE TABLE fanout_commands (
  command_id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  thing TEXT NOT NULL,
  thing_id TEXT NOT NULL,
  created_at TEXT NOT NULL
);

-- Acknowledgements and plays from clusters that the command, alert or live relay never targeted (thing: command,
-- alert or live): kept here with the whole body, never counted as acks or plays. id = the upward envelope id.
CREATE TABLE untargeted_reports (
  id TEXT PRIMARY KEY,
  cluster_id TEXT NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
  channel TEXT NOT NULL,
  thing TEXT NOT NULL,
  thing_id TEXT NOT NULL,
  command_id TEXT,
  stage TEXT NOT NULL,
  at TEXT NOT NULL,
  body TEXT NOT NULL,
  received_at TEXT NOT NULL
);
CREATE INDEX untargeted_reports_thing ON untargeted_reports(thing, thing_id, at);
`,
}
