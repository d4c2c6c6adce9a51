// The web app's text preprocessing: review text -> fixed-length token ids for the model.
//
// It must give exactly the ids of the reference, harness/core/tokenizer/reference.py (the harness proves it
// in Chromium on every change). So, like the reference, it asks the JavaScript engine no
// Unicode question at all (no toLowerCase, normalize, \w or \p{...}): V8 knows a newer
// Unicode than the Python that built the model, and would fold or split new characters
// differently. Every decision comes from the spec (tokenizer.json):
//   - `fold`: a frozen, closed table code point -> replacement, applied once per code point;
//   - `separators`: code point ranges that end a token; ASCII is fixed by rule: [0-9a-z] and
//     the apostrophe are word characters, every other ASCII character separates; every other
//     code point is a word character, whether or not this engine's Unicode knows it.
// A token is a maximal run of word characters with apostrophes stripped from both ends.
//
// Strings are UTF-16 here and code points in Python: a valid surrogate pair is one code
// point, a lone surrogate is a code point of its own (a separator in the shipped spec), which
// is exactly how Python sees the same text after JSON decoding.
//
// One pass, no backtracking; with truncation "post" the scan stops at `length` tokens.

export const SPEC_FORMAT = "harness-tokenizer/1";

const APOSTROPHE = 0x27;
const SEPARATOR = 0;
const WORD = 1;
const FOLDED = 2;
const HIGH_SURROGATE = 3; // decided by the next code unit: pair or lone

// ASCII is not data: the rule is part of the format.
const ASCII_SEPARATORS = [[0x00, 0x26], [0x28, 0x2f], [0x3a, 0x60], [0x7b, 0x7f]];

export class TokenizerSpecError extends Error {}

export const COMPACT_FORMAT = "harness-tokenizer-lines/1";

/**
 * The spec from its compact form (harness/app/compact_tokenizer.py, the file the app ships):
 * a JSON header line (the fold table as runs), then the vocabulary one word a line in index
 * order, which is smaller than tokenizer.json. The header's word count refuses a truncated download.
 */
export function parseCompact(text) {
  const cut = text.indexOf("\n");
  let header;
  try {
    header = JSON.parse(cut < 0 ? text : text.slice(0, cut));
  } catch (e) {
    throw new TokenizerSpecError(`the compact tokenizer's header is not JSON (${e.message})`);
  }
  const facts = header.compact;
  if (!facts || facts.format !== COMPACT_FORMAT) throw new TokenizerSpecError(`expected compact format ${COMPACT_FORMAT}`);
  const vocab = cut < 0 ? [] : text.slice(cut + 1).split("\n");
  if (vocab.length !== facts.vocab_lines) {
    throw new TokenizerSpecError(`the compact tokenizer has ${vocab.length} words, its header says ${facts.vocab_lines}`);
  }
  // The fold table comes as runs [start, count, step, delta] (key start + i * step folds to key +
  // delta) plus the entries no run covers (harness/core/compact_tokenizer.py fold_runs).
  const fold = {};
  for (const [start, count, step, delta] of header.fold_runs || []) {
    for (let i = 0; i < count; i += 1) fold[start + i * step] = String.fromCodePoint(start + i * step + delta);
  }
  Object.assign(fold, header.fold_rest || {});
  delete header.compact;
  delete header.fold_runs;
  delete header.fold_rest;
  header.fold = fold;
  header.vocab = vocab;
  return header;
}

export class Tokenizer {
  constructor(spec) {
    if (!spec || spec.format !== SPEC_FORMAT) {
      throw new TokenizerSpecError(`expected format ${SPEC_FORMAT}, got ${spec && spec.format}`);
    }
    this.length = Number(spec.length);
    this.padId = Number(spec.pad_id);
    this.oovId = Number(spec.oov_id);
    this.truncation = spec.truncation;
    this.padding = spec.padding;
    const vocab = spec.vocab;
    if (!Number.isInteger(this.length) || this.length < 1) {
      throw new TokenizerSpecError(`length must be an integer of at least 1, got ${spec.length}`);
    }
    if (!["post", "pre"].includes(this.truncation) || !["post", "pre"].includes(this.padding)) {
      throw new TokenizerSpecError("truncation and padding must be 'post' or 'pre'");
    }
    if (!Array.isArray(vocab)) throw new TokenizerSpecError("vocab must be a list of tokens");
    this.vocabSize = vocab.length;
    for (const id of [this.padId, this.oovId]) {
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
        throw new TokenizerSpecError("pad_id and oov_id must index the vocabulary");
      }
    }

    // Later duplicates win, as in a Python dict; pad and oov are never produced by text,
    // even when a text token spells them.
    this._ids = new Map();
    vocab.forEach((token, id) => typeof token === "string" && this._ids.set(token, id));
    this._ids.delete(vocab[this.padId]);
    this._ids.delete(vocab[this.oovId]);

    const separators = [...ASCII_SEPARATORS, ...spec.separators.map(([lo, hi]) => [Number(lo), Number(hi)])];
    for (const [lo, hi] of separators) {
      if (!(Number.isInteger(lo) && Number.isInteger(hi) && 0 <= lo && lo <= hi && hi <= 0x10ffff)) {
        throw new TokenizerSpecError(`bad separator range [${lo}, ${hi}]`);
      }
    }
    this._astralSeparators = separators.filter(([, hi]) => hi > 0xffff);

    // One byte per UTF-16 code unit keeps the common path to a single array read; the separator
    // ranges go in first, so that reading a fold's replacement below is an array read too (a
    // page reads this spec on a phone's CPU before its first score).
    this._bmp = new Uint8Array(0x10000).fill(WORD);
    for (const [lo, hi] of separators) {
      if (lo <= 0xffff) this._bmp.fill(SEPARATOR, lo, Math.min(hi, 0xffff) + 1);
    }
    const bmp = this._bmp;
    const astral = this._astralSeparators;
    const isSeparator = (cp) =>
      cp <= 0xffff ? bmp[cp] === SEPARATOR : astral.some(([lo, hi]) => lo <= cp && cp <= hi);

    // A replacement is stored as its runs of word characters with null for each separator
    // inside it (e.g. a vulgar fraction folds to "1", slash, "2"), so applying a fold never
    // re-classifies characters at encode time. The table is closed: replacements are final.
    this._fold = new Map();
    for (const [key, replacement] of Object.entries(spec.fold)) {
      const cp = Number(key);
      if (!Number.isInteger(cp) || cp < 0 || cp > 0x10ffff) throw new TokenizerSpecError(`bad fold key ${key}`);
      const text = String(replacement);
      if (text.length === 1) {
        // most folds (case, accents) are one BMP character: the loop below, without its generator
        const single = text.charCodeAt(0);
        this._fold.set(cp, isSeparator(single) ? [null] : [text]);
        continue;
      }
      const parts = [];
      let run = "";
      for (const ch of codePoints(text)) {
        if (isSeparator(ch.codePointAt(0))) {
          if (run) parts.push(run);
          parts.push(null);
          run = "";
        } else {
          run += ch;
        }
      }
      if (run) parts.push(run);
      this._fold.set(cp, parts);
    }

    // A fold applies before the separator test, so it wins over a separator range.
    for (const cp of this._fold.keys()) if (cp <= 0xffff) this._bmp[cp] = FOLDED;
    this._lone = this._bmp.slice(0xd800, 0xdc00); // a high surrogate without its pair
    this._bmp.fill(HIGH_SURROGATE, 0xd800, 0xdc00);
  }

  /** Tokens of `text` in order; stops after `limit` tokens when given. */
  tokens(text, limit = Infinity) {
    const out = [];
    this._scan(String(text), limit, (token) => out.push(token));
    return out;
  }

  /** Exactly `length` ids, each in [0, vocabSize). */
  encode(text) {
    const { length, oovId, padId } = this;
    const limit = this.truncation === "post" ? length : Infinity;
    let ids = [];
    this._scan(String(text), limit, (token) => {
      const id = this._ids.get(token);
      ids.push(id === undefined ? oovId : id);
    });
    if (ids.length > length) ids = ids.slice(ids.length - length); // only with truncation "pre"
    if (ids.length === length) return ids;
    const padding = new Array(length - ids.length).fill(padId);
    return this.padding === "post" ? ids.concat(padding) : padding.concat(ids);
  }

  encodeBatch(texts) {
    return Array.from(texts, (text) => this.encode(text));
  }

  _scan(text, limit, emit) {
    const bmp = this._bmp;
    const n = text.length;
    let count = 0;
    let token = ""; // folded text of the current token, before the pending run
    let runStart = -1; // start in `text` of a pending run of unfolded word characters

    // Ends the current token; false once `limit` tokens were emitted.
    const flush = (end) => {
      if (runStart >= 0) {
        token = token ? token + text.slice(runStart, end) : text.slice(runStart, end);
        runStart = -1;
      }
      if (!token) return true;
      let s = 0;
      let e = token.length;
      while (s < e && token.charCodeAt(s) === APOSTROPHE) s++;
      while (e > s && token.charCodeAt(e - 1) === APOSTROPHE) e--;
      const word = s === 0 && e === token.length ? token : token.slice(s, e);
      token = "";
      if (!word) return true;
      emit(word);
      return ++count < limit;
    };

    if (limit <= 0) return;
    for (let i = 0; i < n; i++) {
      let cls = bmp[text.charCodeAt(i)];
      let cp = -1; // set when the class is not read from `bmp`
      let width = 1;
      if (cls === HIGH_SURROGATE) {
        const hi = text.charCodeAt(i);
        const lo = i + 1 < n ? text.charCodeAt(i + 1) : 0;
        if (lo >= 0xdc00 && lo <= 0xdfff) {
          cp = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
          cls = this._astralClass(cp);
          width = 2;
        } else {
          cp = hi;
          cls = this._lone[hi - 0xd800];
        }
      }
      if (cls === WORD) {
        if (runStart < 0) runStart = i;
      } else if (cls === SEPARATOR) {
        if (!flush(i)) return;
      } else {
        if (runStart >= 0) {
          token += text.slice(runStart, i);
          runStart = -1;
        }
        const parts = this._fold.get(cp < 0 ? text.charCodeAt(i) : cp);
        for (let p = 0; p < parts.length; p++) {
          if (parts[p] === null) {
            if (!flush(i)) return;
          } else {
            token += parts[p];
          }
        }
      }
      i += width - 1;
    }
    flush(n);
  }

  _astralClass(cp) {
    if (this._fold.has(cp)) return FOLDED;
    for (const [lo, hi] of this._astralSeparators) if (lo <= cp && cp <= hi) return SEPARATOR;
    return WORD;
  }
}

// Code points of a string, lone surrogates included, without asking about Unicode.
function* codePoints(s) {
  for (let i = 0; i < s.length; i++) {
    const hi = s.charCodeAt(i);
    const lo = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
    if (hi >= 0xd800 && hi <= 0xdbff && lo >= 0xdc00 && lo <= 0xdfff) {
      yield s.slice(i, i + 2);
      i++;
    } else {
      yield s[i];
    }
  }
}
