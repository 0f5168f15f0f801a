/** Major protocol version. It is part of every topic (`loa/v1/...`) and every envelope. */
export const PROTOCOL_VERSION = 1 as const

/** Default root of the topic tree; the deployment may choose another (e.g. one per province). */
export const DEFAULT_TOPIC_ROOT = 'loa'

/** The province's time zone: schedules are evaluated here, times on the wire are UTC. */
export const DEFAULT_TIMEZONE = 'Asia/Ho_Chi_Minh'
