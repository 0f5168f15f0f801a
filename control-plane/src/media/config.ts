/**
 * Limits on media work (docs/api.md#media, docs/performance.md#media-work-and-the-alert-lane): what an upload may
 * be, what a transcode may cost, and the lanes that keep alert audio from queueing behind ordinary work.
 */
export interface MediaLimitsConfig {
  /** Longest audio accepted, declared or decoded (LOA_MAX_MEDIA_SECONDS). */
  maxMediaSeconds: number
  /** Longest audio made in the alert lane (LOA_MAX_ALERT_MEDIA_SECONDS): what one alert job may cost. */
  maxAlertMediaSeconds: number
  /** Most channels an upload may have (LOA_MAX_MEDIA_CHANNELS). */
  maxMediaChannels: number
  /** Highest sample rate an upload may have, Hz (LOA_MAX_MEDIA_SAMPLE_RATE). */
  maxMediaSampleRate: number
  /** CPU seconds one ffmpeg/ffprobe/espeak-ng process may use (LOA_MEDIA_CPU_SECONDS). */
  mediaCpuSeconds: number
  /** Ordinary media jobs (uploads, TTS) running at once (LOA_MEDIA_SLOTS). */
  mediaSlots: number
  /** Slots only alert audio may use (LOA_ALERT_MEDIA_SLOTS). */
  alertMediaSlots: number
  /** Ordinary jobs one user or unit may have running or waiting (LOA_MEDIA_JOBS_PER_OWNER). */
  mediaJobsPerOwner: number
  /** Ordinary jobs that may wait in all (LOA_MEDIA_QUEUE_MAX). */
  mediaQueueMax: number
  /** Niceness of ordinary media processes, 0–19 (LOA_MEDIA_NICE). */
  mediaNice: number
}

export const DEFAULT_MEDIA_LIMITS: MediaLimitsConfig = {
  maxMediaSeconds: 1800,
  maxAlertMediaSeconds: 600,
  maxMediaChannels: 8,
  maxMediaSampleRate: 192_000,
  mediaCpuSeconds: 300,
  mediaSlots: 2,
  alertMediaSlots: 2,
  mediaJobsPerOwner: 2,
  mediaQueueMax: 16,
  mediaNice: 10,
}

type NumberVar = (name: string, def: number, min: number, max: number, int?: boolean) => number

/** The media limits from the environment; `num` is edge-agent/src/config/config.ts's reader (it names the variable on a bad value). */
export function mediaLimitsFromEnv(num: NumberVar): MediaLimitsConfig {
  const d = DEFAULT_MEDIA_LIMITS
  return {
    maxMediaSeconds: num('LOA_MAX_MEDIA_SECONDS', d.maxMediaSeconds, 1, 86_400),
    maxAlertMediaSeconds: num('LOA_MAX_ALERT_MEDIA_SECONDS', d.maxAlertMediaSeconds, 1, 86_400),
    maxMediaChannels: num('LOA_MAX_MEDIA_CHANNELS', d.maxMediaChannels, 1, 64),
    maxMediaSampleRate: num('LOA_MAX_MEDIA_SAMPLE_RATE', d.maxMediaSampleRate, 8000, 768_000),
    mediaCpuSeconds: num('LOA_MEDIA_CPU_SECONDS', d.mediaCpuSeconds, 1, 86_400, false),
    mediaSlots: num('LOA_MEDIA_SLOTS', d.mediaSlots, 1, 64),
    alertMediaSlots: num('LOA_ALERT_MEDIA_SLOTS', d.alertMediaSlots, 1, 16),
    mediaJobsPerOwner: num('LOA_MEDIA_JOBS_PER_OWNER', d.mediaJobsPerOwner, 1, 1000),
    mediaQueueMax: num('LOA_MEDIA_QUEUE_MAX', d.mediaQueueMax, 0, 10_000),
    mediaNice: num('LOA_MEDIA_NICE', d.mediaNice, 0, 19),
  }
}
