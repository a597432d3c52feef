/**
 * A word-level tokenizer with a capped vocabulary: the token ids the small language models of
 * `lm/` read and write.
 *
 * Why words and not subword pieces (BPE): the Brown corpus comes already tokenized into words,
 * each with one part-of-speech tag, in a document of one genre. With one token per word every
 * token keeps its tag and its genre 1:1, which the analyses need: the POS mix of a latent's top
 * tokens on the dashboards, the parallelograms of word pairs (singular and plural nouns) that need
 * whole words on both ends. BPE would split a word, and with it its tag, across pieces. And at
 * about a million words of training text, a capped word vocabulary (the most frequent words,
 * the rest mapped to `<unk>`) covers most running words while staying small enough for a small
 * model to learn; the coverage we measured, and what it costs, is in docs/methods/lm-corpus.md §4.
 *
 * Written by hand because it is a frequency count and a lookup table over words the corpus has
 * already split; the npm tokenizer packages implement subword schemes (BPE, WordPiece) and their
 * own pre-tokenization, which is exactly what we do not want here.
 */
import type { BrownDocument } from '../data/brown.js';
import { fileText } from '../data/safetensors.js';
import { NestlabArgumentError, NestlabComputationError, checkInt, checkKnownKeys } from '../errors.js';

/**
 * The special tokens every word tokenizer starts with: id 0 `<unk>` (any word not in the
 * vocabulary), id 1 `<doc>` (put before each document by {@link encodeDocuments}).
 */
export const WORD_TOKENIZER_SPECIALS: readonly ['<unk>', '<doc>'] = Object.freeze(['<unk>', '<doc>'] as const);

/** The id of `<unk>`: what {@link encodeWords} gives a word outside the vocabulary. */
export const UNK_ID = 0;
/** The id of `<doc>`: the token before each document in {@link encodeDocuments}' stream. */
export const DOC_ID = 1;

/**
 * A word-level tokenizer: `vocab[id]` is the token of `id`; ids 0 and 1 are `<unk>` and `<doc>`,
 * then the words by descending training frequency (ties in string order). With `lowercase`,
 * words are lowercased before lookup.
 */
export interface WordTokenizer {
  /** Always `'word'`: one token per word of the corpus. */
  kind: 'word';
  /** Whether words are lowercased before they are looked up (and were before counting). */
  lowercase: boolean;
  /** The token of each id: `<unk>`, `<doc>`, then the words. */
  vocab: string[];
}

/** Options of {@link trainWordTokenizer}. */
export interface TrainWordTokenizerOptions {
  /** Most tokens in the vocabulary, the two specials included. Default 8192, at least 3. */
  vocabSize?: number;
  /** Lowercase words before counting and lookup. Default true. */
  lowercase?: boolean;
  /** Leave out words seen fewer times than this in training. Default 1 (keep every word that fits). */
  minCount?: number;
}

/**
 * Documents as one stream of token ids, with where each token comes from and its tag: for each
 * document `<doc>` and then its words. All arrays have one entry per token.
 */
export interface EncodedDocuments {
  /** The token ids of the stream. */
  ids: Int32Array;
  /** The index in the input array of the document each token belongs to. */
  document: Int32Array;
  /** The token's index within its document's part of the stream (0 for its `<doc>`, 1 for the first word). */
  position: Int32Array;
  /** The index into `tagNames` of each token's part-of-speech tag (0, the empty tag, for `<doc>`). */
  tagIds: Int16Array;
  /** The tags: `''` (the tag of `<doc>`) first, then every tag of the documents in string order. */
  tagNames: string[];
}

const FORMAT = 'nestlab-word-tokenizer';
const VERSION = 1;

/** A tokenizer's validated vocabulary and its word -> id index, built once per tokenizer object. */
const indexCache = new WeakMap<WordTokenizer, { vocab: string[]; length: number; index: Map<string, number> }>();

/** What is wrong with a vocabulary, or null: an array of unique strings with the specials at 0 and 1. */
function vocabProblem(vocab: unknown, lowercase: boolean): { argument: string; expected: string; got: unknown } | null {
  if (!Array.isArray(vocab) || vocab.length < WORD_TOKENIZER_SPECIALS.length) {
    return { argument: 'vocab', expected: 'an array of at least 2 strings (<unk>, <doc>, then the words)', got: vocab };
  }
  for (let id = 0; id < WORD_TOKENIZER_SPECIALS.length; id++) {
    if (vocab[id] !== WORD_TOKENIZER_SPECIALS[id]) return { argument: `vocab[${id}]`, expected: JSON.stringify(WORD_TOKENIZER_SPECIALS[id]), got: vocab[id] };
  }
  const seen = new Set<string>();
  for (let id = 0; id < vocab.length; id++) {
    const word: unknown = vocab[id];
    if (typeof word !== 'string' || word === '') return { argument: `vocab[${id}]`, expected: 'a non-empty string', got: word };
    if (seen.has(word)) return { argument: `vocab[${id}]`, expected: 'a word not already in the vocabulary', got: JSON.stringify(word) };
    if (lowercase && id >= WORD_TOKENIZER_SPECIALS.length && word.toLowerCase() !== word) {
      return { argument: `vocab[${id}]`, expected: 'lowercase (the tokenizer lowercases words before lookup)', got: JSON.stringify(word) };
    }
    seen.add(word);
  }
  return null;
}

/** The word -> id index of a tokenizer, checking the tokenizer the first time it is seen (and whenever its vocab changed). */
function lookup(where: string, tokenizer: WordTokenizer): Map<string, number> {
  const cached = indexCache.get(tokenizer);
  if (cached && cached.vocab === tokenizer.vocab && cached.length === tokenizer.vocab.length) return cached.index;
  if (typeof tokenizer !== 'object' || tokenizer === null || tokenizer.kind !== 'word') {
    throw new NestlabArgumentError(where, 'tokenizer', 'a word tokenizer (lm.trainWordTokenizer or lm.tokenizerFromJson)', tokenizer);
  }
  if (typeof tokenizer.lowercase !== 'boolean') throw new NestlabArgumentError(where, 'tokenizer.lowercase', 'true or false', tokenizer.lowercase);
  const problem = vocabProblem(tokenizer.vocab, tokenizer.lowercase);
  if (problem) throw new NestlabArgumentError(where, `tokenizer.${problem.argument}`, problem.expected, problem.got);
  const index = new Map<string, number>();
  tokenizer.vocab.forEach((word, id) => index.set(word, id));
  indexCache.set(tokenizer, { vocab: tokenizer.vocab, length: tokenizer.vocab.length, index });
  return index;
}

/**
 * Learns a word vocabulary from documents: counts every word (lowercased by default), keeps the
 * `vocabSize - 2` most frequent ones seen at least `minCount` times, ordered by descending count
 * and then by string (code-unit) order so that the same documents always give the same ids, after
 * the specials `<unk>` (0) and `<doc>` (1). Words spelled like a special are not counted.
 *
 * @example const tokenizer = lm.trainWordTokenizer(data.splitBrown(data.loadBrown()).train, { vocabSize: 8192 }); // tokenizer.vocab[2] === 'the'
 */
export function trainWordTokenizer(documents: readonly { words: readonly string[] }[], options: TrainWordTokenizerOptions = {}): WordTokenizer {
  const where = 'lm.trainWordTokenizer';
  checkKnownKeys(where, options, ['vocabSize', 'lowercase', 'minCount']);
  const vocabSize = checkInt(where, 'options.vocabSize', options.vocabSize ?? 8192, 3, 2 ** 31 - 1);
  const minCount = checkInt(where, 'options.minCount', options.minCount ?? 1, 1);
  const lowercase = options.lowercase ?? true;
  if (typeof lowercase !== 'boolean') throw new NestlabArgumentError(where, 'options.lowercase', 'true or false', lowercase);
  if (!Array.isArray(documents)) throw new NestlabArgumentError(where, 'documents', 'an array of documents with words (data.loadBrown)', documents);
  const counts = new Map<string, number>();
  const specials = new Set<string>(WORD_TOKENIZER_SPECIALS);
  documents.forEach((doc, d) => {
    if (typeof doc !== 'object' || doc === null || !Array.isArray(doc.words)) {
      throw new NestlabArgumentError(where, `documents[${d}]`, 'a document with an array of words', doc);
    }
    const words = doc.words;
    for (let i = 0; i < words.length; i++) {
      const raw: unknown = words[i];
      if (typeof raw !== 'string' || raw === '') throw new NestlabArgumentError(where, `documents[${d}].words[${i}]`, 'a non-empty string', raw);
      const word = lowercase ? raw.toLowerCase() : raw;
      if (specials.has(word)) continue;
      counts.set(word, (counts.get(word) ?? 0) + 1);
    }
  });
  const kept = [...counts].filter(([, count]) => count >= minCount);
  kept.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const vocab = [...WORD_TOKENIZER_SPECIALS, ...kept.slice(0, vocabSize - WORD_TOKENIZER_SPECIALS.length).map(([word]) => word)];
  return { kind: 'word', lowercase, vocab };
}

/**
 * The token id of one word: its vocabulary index (after lowercasing if the tokenizer does),
 * `<unk>` = 0 when the word is not in the vocabulary.
 *
 * @example const id = lm.tokenId(tokenizer, 'The'); // 2 for a lowercasing tokenizer trained on Brown ('the' is its most frequent word)
 */
export function tokenId(tokenizer: WordTokenizer, word: string): number {
  const where = 'lm.tokenId';
  const index = lookup(where, tokenizer);
  if (typeof word !== 'string') throw new NestlabArgumentError(where, 'word', 'a string', word);
  return index.get(tokenizer.lowercase ? word.toLowerCase() : word) ?? UNK_ID;
}

/**
 * The token ids of a list of words, one id per word (no `<doc>` added): vocabulary indices after
 * lowercasing if the tokenizer does, `<unk>` = 0 for words outside the vocabulary.
 *
 * @example const ids = lm.encodeWords(tokenizer, ['The', 'jury', 'said']); // Int32Array [2, id of 'jury', id of 'said']
 */
export function encodeWords(tokenizer: WordTokenizer, words: readonly string[]): Int32Array {
  const where = 'lm.encodeWords';
  const index = lookup(where, tokenizer);
  if (!Array.isArray(words)) throw new NestlabArgumentError(where, 'words', 'an array of strings', words);
  const out = new Int32Array(words.length);
  for (let i = 0; i < words.length; i++) {
    const word: unknown = words[i];
    if (typeof word !== 'string') throw new NestlabArgumentError(where, `words[${i}]`, 'a string', word);
    out[i] = index.get(tokenizer.lowercase ? word.toLowerCase() : word) ?? UNK_ID;
  }
  return out;
}

/**
 * The tokens of a list of ids: `vocab[id]` for each (so `<unk>` for 0 and `<doc>` for 1). Words
 * come back as the vocabulary holds them, lowercased if the tokenizer lowercases.
 *
 * @example const words = lm.decodeTokens(tokenizer, lm.encodeWords(tokenizer, ['The', 'jury'])); // ['the', 'jury']
 */
export function decodeTokens(tokenizer: WordTokenizer, ids: ArrayLike<number>): string[] {
  const where = 'lm.decodeTokens';
  lookup(where, tokenizer);
  if (typeof ids !== 'object' || ids === null || typeof ids.length !== 'number') throw new NestlabArgumentError(where, 'ids', 'an array of token ids', ids);
  const vocab = tokenizer.vocab;
  const out = new Array<string>(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (!Number.isInteger(id) || id < 0 || id >= vocab.length) throw new NestlabArgumentError(where, `ids[${i}]`, `a token id in [0, ${vocab.length - 1}]`, id);
    out[i] = vocab[id];
  }
  return out;
}

/**
 * Documents as one token stream for a language model: for each document `<doc>` (id 1) and then
 * the ids of its words, with each token's document index, its position within the document's
 * part of the stream, and its tag as an index into `tagNames` (the tag of `<doc>` is `''`, index
 * 0). The genre of token i is `docs[document[i]].genre`.
 *
 * @example const stream = lm.encodeDocuments(tokenizer, data.loadBrown({ ids: ['ca01'] })); // stream.ids[0] === 1 (<doc>), stream.tagNames[stream.tagIds[1]] === 'at' ('The')
 */
export function encodeDocuments(tokenizer: WordTokenizer, docs: readonly Pick<BrownDocument, 'words' | 'tags'>[]): EncodedDocuments {
  const where = 'lm.encodeDocuments';
  const index = lookup(where, tokenizer);
  if (!Array.isArray(docs)) throw new NestlabArgumentError(where, 'docs', 'an array of documents with words and tags (data.loadBrown)', docs);
  let total = 0;
  const tagSet = new Set<string>();
  docs.forEach((doc, d) => {
    if (typeof doc !== 'object' || doc === null || !Array.isArray(doc.words) || !Array.isArray(doc.tags)) {
      throw new NestlabArgumentError(where, `docs[${d}]`, 'a document with arrays of words and tags', doc);
    }
    if (doc.tags.length !== doc.words.length) {
      throw new NestlabArgumentError(where, `docs[${d}].tags`, `one tag per word (${doc.words.length})`, doc.tags);
    }
    for (const tag of doc.tags) tagSet.add(tag);
    total += doc.words.length + 1;
  });
  tagSet.delete('');
  const tagNames = ['', ...[...tagSet].sort()];
  if (tagNames.length > 32768) throw new NestlabComputationError(where, `the documents have ${tagNames.length} distinct tags, more than the 32,768 an Int16Array of tag ids can hold`);
  const tagIndex = new Map(tagNames.map((tag, i) => [tag, i]));
  const ids = new Int32Array(total);
  const document = new Int32Array(total);
  const position = new Int32Array(total);
  const tagIds = new Int16Array(total);
  let t = 0;
  docs.forEach((doc, d) => {
    ids[t] = DOC_ID;
    document[t] = d;
    position[t] = 0;
    tagIds[t] = 0;
    t++;
    const words = doc.words;
    for (let i = 0; i < words.length; i++, t++) {
      const word: unknown = words[i];
      if (typeof word !== 'string') throw new NestlabArgumentError(where, `docs[${d}].words[${i}]`, 'a string', word);
      ids[t] = index.get(tokenizer.lowercase ? word.toLowerCase() : word) ?? UNK_ID;
      document[t] = d;
      position[t] = i + 1;
      tagIds[t] = tagIndex.get(doc.tags[i]) as number;
    }
  });
  return { ids, document, position, tagIds, tagNames };
}

/**
 * A tokenizer as JSON text: `{"format": "nestlab-word-tokenizer", "version": 1, "lowercase": ...,
 * "vocab": [...]}`, read back by {@link tokenizerFromJson}. Write it with the model it belongs to,
 * since the model's ids mean nothing without it.
 *
 * @example writeFileSync('tokenizer.json', lm.tokenizerToJson(tokenizer));
 */
export function tokenizerToJson(tokenizer: WordTokenizer): string {
  lookup('lm.tokenizerToJson', tokenizer);
  return `${JSON.stringify({ format: FORMAT, version: VERSION, lowercase: tokenizer.lowercase, vocab: tokenizer.vocab })}\n`;
}

/**
 * Reads a tokenizer written by {@link tokenizerToJson}, checking everything: the format name, the
 * version (1), `lowercase`, and a vocabulary of unique non-empty strings with `<unk>` at 0 and
 * `<doc>` at 1 (lowercase words only if the tokenizer lowercases); no other fields. `source`
 * names the text (a file path) in the error when a check fails.
 *
 * @example const tokenizer = lm.tokenizerFromJson(readFileSync('tokenizer.json', 'utf8'), 'tokenizer.json');
 */
export function tokenizerFromJson(text: string, source: string): WordTokenizer {
  const where = 'lm.tokenizerFromJson';
  if (typeof source !== 'string' || source === '') throw new NestlabArgumentError(where, 'source', 'a non-empty string naming the text (a file path)', source);
  if (typeof text !== 'string') throw new NestlabArgumentError(where, source, 'JSON text', text);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new NestlabArgumentError(where, source, 'JSON text', `text that does not parse (${fileText((e as Error).message, 200)})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new NestlabArgumentError(where, source, `a JSON object {"format": "${FORMAT}", ...}`, parsed);
  }
  const fields = parsed as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (!['format', 'version', 'lowercase', 'vocab'].includes(key)) {
      throw new NestlabArgumentError(where, `the fields of ${source}`, 'format, version, lowercase and vocab only', fileText(JSON.stringify(key)));
    }
  }
  // Strings from the file appear in errors on one short line (fileText).
  const got = (value: unknown) => (typeof value === 'string' ? fileText(value) : value);
  if (fields.format !== FORMAT) throw new NestlabArgumentError(where, `format in ${source}`, JSON.stringify(FORMAT), got(fields.format));
  if (fields.version !== VERSION) throw new NestlabArgumentError(where, `version in ${source}`, String(VERSION), got(fields.version));
  if (typeof fields.lowercase !== 'boolean') throw new NestlabArgumentError(where, `lowercase in ${source}`, 'true or false', got(fields.lowercase));
  const problem = vocabProblem(fields.vocab, fields.lowercase);
  if (problem) throw new NestlabArgumentError(where, `${problem.argument} in ${source}`, problem.expected, got(problem.got));
  return { kind: 'word', lowercase: fields.lowercase, vocab: fields.vocab as string[] };
}
