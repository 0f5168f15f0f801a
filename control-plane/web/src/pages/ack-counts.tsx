import { useEffect, useState } from 'preact/hooks'
import { ACK_STAGES, type AckCounts, type AckStage } from './content-types'

export interface CountsState {
  state: string
  counts: AckCounts | null
  ended: boolean
}

/**
 * Follows a counts stream (`/api/alerts/:id/stream`, `/api/lives/:id/stream`): Server-Sent Events of
 * acknowledgement counts per stage, then `end`. EventSource reconnects by itself if the connection drops.
 */
export function useCountsStream(url: string | null): CountsState {
  const [s, setS] = useState<CountsState>({ state: 'active', counts: null, ended: false })
  useEffect(() => {
    if (!url) return
    setS({ state: 'active', counts: null, ended: false })
    const es = new EventSource(url)
    es.addEventListener('counts', (e) => {
      const d = JSON.parse((e as MessageEvent<string>).data) as { state: string; counts: AckCounts }
      setS((prev) => ({ ...prev, state: d.state, counts: d.counts }))
    })
    es.addEventListener('end', () => {
      es.close()
      setS((prev) => ({ ...prev, ended: true }))
    })
    return () => es.close()
  }, [url])
  return s
}

/** Counts per acknowledgement stage, one row each, with a bar relative to the clusters targeted. */
export function AckTable(props: {
  counts: AckCounts
  label: (stage: AckStage) => string
  targetedLabel: string
}) {
  const { counts } = props
  return (
    <table class="ack-table" data-testid="ack-table">
      <tbody>
        <tr>
          <th scope="row">{props.targetedLabel}</th>
          <td data-testid="ack-targeted">{counts.targeted}</td>
          <td />
        </tr>
        {ACK_STAGES.map((stage) => (
          <tr key={stage} class={`stage-${stage}`}>
            <th scope="row">{props.label(stage)}</th>
            <td data-testid={`ack-${stage}`}>{counts[stage]}</td>
            <td class="bar-cell">
              <span
                class="bar"
                style={{ width: `${counts.targeted ? (100 * counts[stage]) / counts.targeted : 0}%` }}
              />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}
