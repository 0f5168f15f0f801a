/**
 * Every limit a desired state is held to: the schema (desired-state.ts, alert.ts, live.ts, recurrence.ts) uses these
 * numbers, and so does the control plane where it builds states (routes, workflow, compiler), so that it never
 * builds a state its own agents refuse (docs/protocol.md, "Limits").
 */
export const DESIRED_LIMITS = {
  /**
   * Bytes of one desired-state message as published (envelope and signature included): the agent refuses a larger
   * payload before parsing it, and the control plane refuses a change that would build one.
   */
  maxBytes: 2 * 1024 * 1024,
  /** Room kept for the envelope and the signature (with a key-rotation chain of up to 32 links) around the body. */
  envelopeReserveBytes: 16 * 1024,
  /** Units from the root of the tree down to the device's unit: the depth of the tree. */
  units: 32,
  /** Distinct media files one device holds. */
  media: 5000,
  /** Schedule entries one device evaluates. */
  schedule: 2000,
  /** Items of one schedule entry (a playlist or programme played in one go). */
  itemsPerEntry: 200,
  /** Items of the fallback programme, and its daily windows. */
  fallbackItems: 200,
  fallbackWindows: 48,
  /** Alerts and live relays active at once for one device (more are left out, lowest band first). */
  alerts: 50,
  lives: 20,
  /** Items of one alert, and how often it repeats. */
  alertItems: 20,
  alertRepeat: 20,
  /** Recurring relays of one device. */
  relays: 200,
  /** Characters of a schedule entry's, relay's, alert's or live relay's title. */
  titleLength: 200,
  /** Times of day of one weekly recurrence. */
  weeklyTimes: 288,
} as const

/** The largest serialized body the control plane builds: the message limit minus the envelope's reserve. */
export const DESIRED_BODY_MAX_BYTES = DESIRED_LIMITS.maxBytes - DESIRED_LIMITS.envelopeReserveBytes
