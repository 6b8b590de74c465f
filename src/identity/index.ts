/** Identity: keys, NIP-19 encodings and the {@link Signer} interface. */
export type { Identity, Signer } from './types.js'
export { createIdentity, createSigner, identityFromNsec, isSigner } from './keys.js'
export { npubDecode, npubEncode, nsecDecode, nsecEncode } from './nip19.js'
export { resolveSigner } from './resolve.js'
