export type { ModerationContext, ModerationStrategy, ModerationVerdict } from './types.js'
import type { ModerationStrategy } from './types.js'

/**
 * A moderation strategy that accepts every valid record. The signature, size limits and the time
 * window are still enforced by the engine.
 * @example
 * const peerset = await createPeerset({ room: 'demo', identity, moderation: acceptAll() })
 */
export function acceptAll(): ModerationStrategy {
  return { name: 'accept-all', digest: 'accept-all/1', review: () => ({ accept: true }) }
}
