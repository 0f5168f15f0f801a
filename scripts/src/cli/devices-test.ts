import type { Command } from 'commander'
import { action, examples } from './command.js'
import { CliError, EXIT, usageError } from './exit.js'

interface Ack {
  stage: string
  at: string
  reason: string | null
}
const FINAL = new Set(['done', 'failed', 'rejected', 'expired', 'cancelled'])

const int = (name: string, raw: string, min: number, max: number): number => {
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min || n > max)
    throw usageError(`${name}: số nguyên / an integer ${min}–${max}`)
  return n
}

export function registerDeviceTest(devices: Command): void {
  devices
    .command('test')
    .description(
      'Phát tiếng thử trên một vùng (hoặc tất cả) và chờ xác nhận / sound a test tone on one zone (or all) and ' +
        'wait for its acknowledgement',
    )
    .argument('<id>', 'mã thiết bị / device id')
    .option('--zone <zone>', 'vùng / zone (default: every zone in turn)')
    .option('--seconds <n>', 'độ dài tiếng thử / tone length, 1–30', '3')
    .option('--frequency <hz>', 'tần số / frequency, 100–4000 Hz')
    .option('--timeout <s>', 'chờ tối đa / wait at most (seconds)', '60')
    .addHelpText(
      'after',
      `\nThoát / exit: 0 done, 1 failed/rejected/expired, 75 timeout.\n${examples(
        'loa devices test qt-0001',
        'loa devices test qt-0001 --zone cho --seconds 5 --timeout 30',
        'loa --json devices test qt-0001',
      )}`,
    )
    .action(
      action(
        async (
          ctx,
          id: string,
          o: { zone?: string; seconds: string; frequency?: string; timeout: string },
        ) => {
          const seconds = int('--seconds', o.seconds, 1, 30)
          const timeoutS = int('--timeout', o.timeout, 1, 3600)
          const test = {
            seconds,
            ...(o.zone ? { zone: o.zone } : {}),
            ...(o.frequency ? { frequencyHz: int('--frequency', o.frequency, 100, 4000) } : {}),
          }
          const api = ctx.api()
          const sent = await api.post<{ commandId: string; deadline: string }>(
            `/api/clusters/${encodeURIComponent(id)}/commands`,
            { kind: 'test', test, deadlineS: Math.min(timeoutS, 3600) },
          )
          ctx.out.info(`Đã gửi lệnh thử / test command sent: ${sent.commandId}`)
          const until = Date.now() + timeoutS * 1000
          const shown = new Set<string>()
          let acks: Ack[] = []
          let final: Ack | undefined
          while (Date.now() < until) {
            acks = (await api.get<{ acks: Ack[] }>(`/api/commands/${sent.commandId}`)).acks
            for (const a of acks) {
              if (shown.has(a.stage)) continue
              shown.add(a.stage)
              ctx.out.info(`  ${a.at} ${a.stage}${a.reason ? `: ${a.reason}` : ''}`)
            }
            final = acks.find((a) => FINAL.has(a.stage))
            if (final) break
            await new Promise((r) => setTimeout(r, 300))
          }
          const doc = { id, commandId: sent.commandId, test, acks, result: final?.stage ?? 'timeout' }
          if (!final) {
            throw new CliError(
              'LOA_CLI_TIMEOUT',
              `Hết ${timeoutS} s chưa có kết quả / no final acknowledgement within ${timeoutS} s ` +
                `(stages: ${acks.map((a) => a.stage).join(', ') || 'none'})`,
              EXIT.timeout,
              doc,
            )
          }
          if (final.stage !== 'done') {
            throw new CliError(
              'LOA_CLI_TEST_FAILED',
              `Thử thất bại / test ${final.stage}${final.reason ? `: ${final.reason}` : ''}`,
              EXIT.failed,
              doc,
            )
          }
          ctx.out.result(doc, () => `Thử xong / test done on ${id}`)
        },
      ),
    )
}
