import { useState } from 'preact/hooks'
import { errorText, get, post } from '../api'
import { can } from '../session'
import { Button } from '../ui/button'
import { tc } from './cluster.i18n'

interface CommandView {
  acks: { stage: string; at: string }[]
}

const ANSWER_TIMEOUT_MS = 20_000

/**
 * Sends a ping (the path to the box works) or a 5-second test tone on every zone (the loudspeakers work), and
 * waits for the cluster's acknowledgement.
 */
export function ClusterTest({ clusterId }: { clusterId: string }) {
  const [busy, setBusy] = useState(false)
  const [result, setResult] = useState<string | null>(null)
  // Commands need the live permission (operators and administrators).
  if (!can('live')) return null

  const send = async (body: Record<string, unknown>) => {
    setBusy(true)
    setResult(tc('testSent'))
    const started = Date.now()
    try {
      const { commandId } = await post<{ commandId: string }>(
        `/api/clusters/${encodeURIComponent(clusterId)}/commands`,
        { ...body, deadlineS: 30 },
      )
      while (Date.now() - started < ANSWER_TIMEOUT_MS) {
        await new Promise((r) => setTimeout(r, 500))
        const cmd = await get<CommandView>(`/api/commands/${encodeURIComponent(commandId)}`)
        const last = cmd.acks.find((a) => a.stage === 'done' || a.stage === 'failed' || a.stage === 'expired')
        if (last) {
          setResult(tc('testDone', { ms: Date.parse(last.at) - started, stage: last.stage }))
          return
        }
      }
      setResult(tc('testNoAnswer'))
    } catch (err) {
      setResult(errorText(err))
    } finally {
      setBusy(false)
    }
  }

  return (
    <>
      <h2>{tc('test')}</h2>
      <div class="card row">
        <span class="muted">{tc('testHelp')}</span>
        <Button kind="primary" busy={busy} onClick={() => send({ kind: 'ping' })} data-testid="send-test">
          {tc('sendTest')}
        </Button>
        <Button
          busy={busy}
          onClick={() => send({ kind: 'test', test: { seconds: 5 } })}
          data-testid="send-tone"
        >
          {tc('sendTone')}
        </Button>
        {result ? (
          <span role="status" data-testid="test-result">
            {result}
          </span>
        ) : null}
      </div>
    </>
  )
}
