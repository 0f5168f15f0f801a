import { type CommandBody, isAddressedTo } from '@loa/shared'
import { AgentError } from '../errors.js'

const LIST_MAX = 5

const list = (ids: readonly string[]) =>
  ids.length === 0
    ? 'none'
    : ids.slice(0, LIST_MAX).join(', ') + (ids.length > LIST_MAX ? ` (+${ids.length - LIST_MAX})` : '')

/**
 * Refuses a command not addressed to this box: its id is not among the signed `recipients.devices` and none of its
 * units (from the root to its own unit, as its newest desired state lists them) is among `recipients.units`. The
 * topic it came on plays no part: a command captured on one topic and published on another is refused the same.
 * Before the box holds any desired state it knows no units, so only a command naming its device id is carried out
 * (it subscribes to no unit topic then anyway; an alert it misses arrives with its first desired state).
 */
export function checkRecipients(cmd: CommandBody, deviceId: string, units: readonly string[]): void {
  if (isAddressedTo(cmd.recipients, deviceId, units)) return
  throw new AgentError('LOA_CMD_NOT_FOR_ME', [
    `command ${cmd.commandId} (${cmd.kind}) is for devices ${list(cmd.recipients.devices)} and units ${list(cmd.recipients.units)}`,
    units.length === 0
      ? `this box is ${deviceId} and knows no units yet (no desired state)`
      : `this box is ${deviceId} in units ${list(units)}`,
  ])
}
