/** Keys of the engine's values in the store's metadata. */

/** The strike ledger (author strikes and bans), written with the records that changed it. */
export const LEDGER_META_KEY = 'moderation:ledger'
/** The moderation policy digest the kept records were moderated with. */
export const POLICY_META_KEY = 'moderation:policy'
/** The peer registry (bans and cool-downs by transport id and key). */
export const REGISTRY_META_KEY = 'session:registry'
/** The newest versions of (author, uuid)s whose kept version was evicted (see `VersionMemory`). */
export const VERSIONS_META_KEY = 'engine:evicted-versions'
/** Per relay url, the end (Unix seconds) of the last finished back-fill from it (see `nostrRelays`). */
export const RELAYS_SINCE_META_KEY = 'relays:since'
