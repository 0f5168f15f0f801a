/**
 * Version 9: what CAP ingest remembers (alerts/cap/log.ts). `cap_messages` (version 2) kept one row per message that made
 * or changed an alert; it becomes `cap_log`, which also holds messages that changed nothing (late, cancelled before
 * they arrived) and each message's `status`, and `cap_cancelled` remembers everything a Cancel named, received or
 * not. In its own file, like versions 6 and 7.
 */
export const CAP_MIGRATION = {
  version: 9,
  name: 'CAP log: status, ordering by sent, cancellations remembered',
  sql: `
-- Every CAP message accepted, keyed as CAP keys it (an identifier is unique per sender). sent is ISO 8601 UTC;
-- alert_id is the Loa alert its chain (Alert, Updates, Cancel) maps to, null when none was made (cancelled first).
CREATE TABLE cap_log (
  sender TEXT NOT NULL,
  identifier TEXT NOT NULL,
  sent TEXT NOT NULL,
  status TEXT NOT NULL,
  msg_type TEXT NOT NULL,
  alert_id TEXT REFERENCES alerts(id) ON DELETE SET NULL,
  outcome TEXT NOT NULL,
  received_at TEXT NOT NULL,
  PRIMARY KEY (sender, identifier)
);
CREATE INDEX cap_log_alert ON cap_log(alert_id, sent);

-- Messages from before version 8 did not record their status: an audible alert came from an Actual message; an
-- inaudible one from Test or Exercise, which cannot be told apart now, so no later message matches its status.
INSERT INTO cap_log (sender, identifier, sent, status, msg_type, alert_id, outcome, received_at)
SELECT m.sender, m.identifier, m.sent,
  CASE WHEN a.audible = 1 THEN 'Actual' ELSE 'Test or Exercise' END,
  m.msg_type, m.alert_id,
  CASE m.msg_type WHEN 'Alert' THEN 'raised' WHEN 'Update' THEN 'updated' ELSE 'cancelled' END,
  m.received_at
FROM cap_messages m LEFT JOIN alerts a ON a.id = m.alert_id;
DROP TABLE cap_messages;

-- Every message a Cancel named, whether it has arrived or not, per status: a message named here never sounds, and
-- nothing in its chain older than the Cancel does either. The newest Cancel naming it is kept.
CREATE TABLE cap_cancelled (
  sender TEXT NOT NULL,
  identifier TEXT NOT NULL,
  status TEXT NOT NULL,
  sent TEXT NOT NULL,
  cancel_sender TEXT NOT NULL,
  cancel_identifier TEXT NOT NULL,
  cancel_sent TEXT NOT NULL,
  at TEXT NOT NULL,
  PRIMARY KEY (sender, identifier, status)
) WITHOUT ROWID;
`,
}
