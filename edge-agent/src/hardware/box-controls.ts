/**
 * What the technician's page and province test commands may do to the box's hardware, zone by zone. The box
 * drivers (GPIO amplifier switches, ALSA volume) implement it; the local page and the `test` command only call it, always
 * through the arbiter so a test or a manual switch never fights an emergency.
 */
export interface ZoneInfo {
  /** Zone id as configured (e.g. `main`, `cho`, `truong-hoc`). */
  id: string
  /** Human label for the technician's page. */
  label: string
  /** The amplifier switch's last commanded state (the name is a contract of the page's JSON). */
  relayOn: boolean
  /** 0–100, or null when the zone has no volume control. */
  volumePercent: number | null
}

export interface BoxControls {
  zones(): ZoneInfo[]
  /** Switch one zone's amplifier; throws AgentError LOA_AGENT_ZONE_UNKNOWN for an unknown zone. */
  setAmpSwitch(zone: string, on: boolean): Promise<void>
  /** Set one zone's volume (amixer control, or ffmpeg gain where the card has none). */
  setVolume(zone: string, percent: number): Promise<void>
}
