import type { Actor } from '../access/actor.js'
import { clusterVisible, scopeUnitIds } from '../access/policy.js'
import type { Services } from '../context.js'
import type { UntargetedReport } from './model.js'

/**
 * The reports from untargeted clusters that `actor` may see: a scoped operator viewing an alert or a command sees
 * those of clusters inside its scope only (the others come from outside it by definition, often another commune).
 */
export async function visibleUntargeted<V extends { untargeted: UntargetedReport[] }>(
  s: Pick<Services, 'repos'>,
  actor: Actor,
  view: V,
): Promise<V> {
  if ((await scopeUnitIds(s, actor)) === null) return view
  const visible = new Map<string, boolean>()
  for (const r of view.untargeted) {
    if (!visible.has(r.clusterId)) visible.set(r.clusterId, await clusterVisible(s, actor, r.clusterId))
  }
  return { ...view, untargeted: view.untargeted.filter((r) => visible.get(r.clusterId)) }
}
