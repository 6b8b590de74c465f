/**
 * Loads obscenity (the `bad-words` rule's lazily imported matcher) before each test file, so rules made
 * in tests answer synchronously, as the moderation tests assert, and no virtual-clock test races the
 * first import. test/moderation/bad-words-lazy.test.ts covers the time before the load.
 */
import { loadBadWordsMatcher } from '../src/moderation/rules/bad-words.js'

await loadBadWordsMatcher()
