/**
 * Ask the platform to keep this origin's data under storage pressure (`navigator.storage.persist()`).
 * Resolves `true`/`false` with the browser's answer, or `undefined` where the API does not exist
 * (Node, old browsers). Never rejects.
 */
export async function requestPersistence(): Promise<boolean | undefined> {
  const storage = (globalThis as { navigator?: { storage?: { persist?: () => Promise<boolean> } } }).navigator?.storage
  if (typeof storage?.persist !== 'function') return undefined
  try {
    return Boolean(await storage.persist())
  } catch {
    return undefined
  }
}

/**
 * Whether the platform already keeps this origin's data under storage pressure
 * (`navigator.storage.persisted()`: reads the state, never prompts). `undefined` where the API does
 * not exist. Never rejects.
 */
export async function persistenceGranted(): Promise<boolean | undefined> {
  const storage = (globalThis as { navigator?: { storage?: { persisted?: () => Promise<boolean> } } }).navigator?.storage
  if (typeof storage?.persisted !== 'function') return undefined
  try {
    return Boolean(await storage.persisted())
  } catch {
    return undefined
  }
}
