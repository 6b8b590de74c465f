/**
 * What the `bad-words` rule needs before its matcher has loaded (internal): the names of the English
 * dataset's words (to check `excludeWords`), its fingerprint (for the policy digest) and a check of
 * obscenity's pattern syntax. test/moderation/bad-words-lazy.test.ts compares all three with obscenity.
 */

/** SHA-256 of obscenity 0.4's compiled English dataset in canonical JSON (test/moderation/bad-words-lazy.test.ts recomputes it). */
export const ENGLISH_DATASET_SHA256 = 'cdf64539c82ee9966980b3731a7d414e44b3ff5de4dfccb5d4b23a4bfab6dbf4'

/** A word of the English dataset, as `excludeWords` takes it (obscenity's `EnglishProfaneWord`; test/moderation/bad-words-lazy.test.ts checks they are the same type). */
export type EnglishProfaneWord =
  | 'abo' | 'abeed' | 'africoon' | 'anal' | 'anus' | 'arabush' | 'arse' | 'ass' | 'bastard' | 'bestiality' | 'bitch'
  | 'blowjob' | 'bollocks' | 'boob' | 'boonga' | 'buttplug' | 'chingchong' | 'chink' | 'cock' | 'cuck' | 'cum'
  | 'cunt' | 'deepthroat' | 'dick' | 'dildo' | 'doggystyle' | 'double penetration' | 'dyke' | 'ejaculate' | 'fag'
  | 'felch' | 'fellatio' | 'finger bang' | 'fisting' | 'fuck' | 'gangbang' | 'handjob' | 'hentai' | 'hooker'
  | 'incest' | 'jerk off' | 'jizz' | 'kike' | 'lubejob' | 'masturbate' | 'negro' | 'nigger' | 'orgasm' | 'orgy'
  | 'penis' | 'piss' | 'porn' | 'prick' | 'pussy' | 'rape' | 'retard' | 'scat' | 'semen' | 'sex' | 'shit' | 'slut'
  | 'spastic' | 'tit' | 'tranny' | 'turd' | 'twat' | 'vagina' | 'wank' | 'whore'

/** The words of obscenity's English dataset, the values `excludeWords` accepts. */
export const ENGLISH_WORDS: readonly EnglishProfaneWord[] = [
  'abo', 'abeed', 'africoon', 'anal', 'anus', 'arabush', 'arse', 'ass', 'bastard', 'bestiality', 'bitch',
  'blowjob', 'bollocks', 'boob', 'boonga', 'buttplug', 'chingchong', 'chink', 'cock', 'cuck', 'cum', 'cunt',
  'deepthroat', 'dick', 'dildo', 'doggystyle', 'double penetration', 'dyke', 'ejaculate', 'fag', 'felch',
  'fellatio', 'finger bang', 'fisting', 'fuck', 'gangbang', 'handjob', 'hentai', 'hooker', 'incest',
  'jerk off', 'jizz', 'kike', 'lubejob', 'masturbate', 'negro', 'nigger', 'orgasm', 'orgy', 'penis', 'piss',
  'porn', 'prick', 'pussy', 'rape', 'retard', 'scat', 'semen', 'sex', 'shit', 'slut', 'spastic', 'tit',
  'tranny', 'turd', 'twat', 'vagina', 'wank', 'whore',
]


/** One pattern unit outside `[...]`: a plain character, an escaped special one, `?`, or an optional part. */
const LITERAL_CHAR = String.raw`[^\\?\[\]|]|\\[\\?\[\]|]`
const OPTIONAL = String.raw`\[(?:(?:${LITERAL_CHAR})+|\?)\]`
/** obscenity's pattern grammar: an optional `|` at each end around literals, `?` and `[optional]` parts. */
const PATTERN = new RegExp(String.raw`^\|?(?:${LITERAL_CHAR}|\?|${OPTIONAL})*\|?$`, 'u')

/** Whether obscenity's `parseRawPattern` accepts `pattern` (same grammar, without loading obscenity). */
export function isValidPattern(pattern: string): boolean {
  return PATTERN.test(pattern)
}
