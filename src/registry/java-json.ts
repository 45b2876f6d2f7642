/**
 * JSON as Confluent's Java code reads and writes it, for canonical strings: JavaScript's JSON.parse turns
 * `0.0` into `0` and loses integers beyond 2^53, where Jackson keeps them, so a schema's stored text (and
 * its identity: `"default": 0.0` and `"default": 0` are two schemas in Confluent) would differ. Here a
 * number keeps its source text (a NumberLexeme) and is written back the way Jackson writes the node it
 * would have parsed:
 *
 * - an integer (no `.`, `e`) as its digits (IntNode, LongNode, BigIntegerNode; `-0` is 0);
 * - a fraction, for Avro, as Java's `Double.toString` of its double (Avro's parser makes DoubleNodes):
 *   `1.0`, `1000.0`, `1.0E7`, `1.0E-4`;
 * - a fraction, for JSON Schema, as `BigDecimal.toString` of its exact value (Confluent's Jackson mapper has
 *   USE_BIG_DECIMAL_FOR_FLOATS and exact BigDecimals): `1.0`, `1E+3`, `0.000001`, `1E-7`.
 *
 * Strings are written as JSON.stringify writes them, which is Jackson's escaping too (`"` and `\`, the short
 * forms \b \t \n \f \r, other control characters as \u00XX, everything else as is).
 */

/** A JSON number with its source text. */
export class NumberLexeme {
  constructor(readonly lexeme: string) {}

  get value(): number {
    return Number(this.lexeme);
  }

  get isInteger(): boolean {
    return !/[.eE]/.test(this.lexeme);
  }
}

export type LexJson = null | boolean | string | NumberLexeme | LexJson[] | { [key: string]: LexJson };

/** The number a JSON value holds, whether a JavaScript number or a NumberLexeme; undefined otherwise. */
export function numberOf(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (v instanceof NumberLexeme) return v.value;
  return undefined;
}

/** A plain JSON value (numbers as JavaScript numbers), e.g. for a validator. */
export function toPlain(v: LexJson): unknown {
  if (v instanceof NumberLexeme) return v.value;
  if (Array.isArray(v)) return v.map(toPlain);
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = toPlain(x);
    return out;
  }
  return v;
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const WHITESPACE = /[ \t\n\r]*/y;

/**
 * Parses JSON text keeping each number's source text. Throws SyntaxError for text that is not JSON
 * (callers check with JSON.parse first, for its messages). A repeated key keeps its first position and
 * takes the last value, as both JSON.parse and Jackson's readTree do.
 */
export function parseLexJson(text: string): LexJson {
  let i = 0;
  const fail = (): never => {
    throw new SyntaxError(`Unexpected JSON at position ${i}`);
  };
  /** A string token from i (at its opening quote): scanned, not matched by a regex (a 10 MB doc string). */
  const str = (): string => {
    if (text[i] !== '"') fail();
    let j = i + 1;
    for (;;) {
      const c = text.charCodeAt(j);
      if (Number.isNaN(c)) fail();
      if (c === 0x5c) j += 2;
      else if (c === 0x22) break;
      else j++;
    }
    const token = text.slice(i, j + 1);
    i = j + 1;
    // JSON.parse checks the escapes and refuses raw control characters.
    return JSON.parse(token) as string;
  };
  const ws = (): void => {
    WHITESPACE.lastIndex = i;
    WHITESPACE.exec(text);
    i = WHITESPACE.lastIndex;
  };
  const value = (): LexJson => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const out: { [key: string]: LexJson } = {};
      ws();
      if (text[i] === '}') {
        i++;
        return out;
      }
      for (;;) {
        ws();
        const key = str();
        ws();
        if (text[i] !== ':') fail();
        i++;
        out[key] = value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return out;
        }
        fail();
      }
    }
    if (c === '[') {
      i++;
      const out: LexJson[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return out;
      }
      for (;;) {
        out.push(value());
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return out;
        }
        fail();
      }
    }
    if (c === '"') return str();
    if (text.startsWith('true', i)) {
      i += 4;
      return true;
    }
    if (text.startsWith('false', i)) {
      i += 5;
      return false;
    }
    if (text.startsWith('null', i)) {
      i += 4;
      return null;
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (!m) fail();
    i = NUMBER.lastIndex;
    return new NumberLexeme(m![0]);
  };
  const out = value();
  ws();
  if (i !== text.length) fail();
  return out;
}

/** Java's Double.toString (the shortest digits that read back as the same double, JDK 19's algorithm). */
export function javaDoubleToString(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  const [mantissa, exp] = Math.abs(x).toExponential().split('e') as [string, string];
  const digits = mantissa.replace('.', '');
  const e = Number(exp);
  const abs = Math.abs(x);
  if (abs >= 1e-3 && abs < 1e7) {
    // Plain: the point after digit e+1 (padding with zeros), at least one digit after it.
    if (e >= 0) {
      const int = digits.length > e + 1 ? digits.slice(0, e + 1) : digits.padEnd(e + 1, '0');
      const frac = digits.length > e + 1 ? digits.slice(e + 1) : '0';
      return `${sign}${int}.${frac}`;
    }
    return `${sign}0.${'0'.repeat(-e - 1)}${digits}`;
  }
  return `${sign}${digits[0]}.${digits.length > 1 ? digits.slice(1) : '0'}E${e}`;
}

/** Java's BigDecimal.toString of the number a JSON lexeme denotes exactly. */
export function javaBigDecimalToString(lexeme: string): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(lexeme);
  if (!m) return lexeme;
  const [, sign, int, frac = '', exp = '0'] = m;
  let coefficient = `${int}${frac}`.replace(/^0+(?=\d)/, '');
  const scale = frac.length - Number(exp);
  const negative = sign === '-' && /[1-9]/.test(coefficient);
  if (coefficient === '') coefficient = '0';
  const adjusted = -scale + (coefficient.length - 1);
  let out: string;
  if (scale >= 0 && adjusted >= -6) {
    if (scale === 0) out = coefficient;
    else if (coefficient.length > scale) out = `${coefficient.slice(0, coefficient.length - scale)}.${coefficient.slice(coefficient.length - scale)}`;
    else out = `0.${'0'.repeat(scale - coefficient.length)}${coefficient}`;
  } else {
    const head = coefficient.length > 1 ? `${coefficient[0]}.${coefficient.slice(1)}` : coefficient;
    out = `${head}E${adjusted >= 0 ? '+' : '-'}${Math.abs(adjusted)}`;
  }
  return negative ? `-${out}` : out;
}

/** An integer lexeme as Jackson writes its Int/Long/BigIntegerNode: the digits, `-0` as 0. */
function javaInteger(lexeme: string): string {
  return /^-0+$/.test(lexeme) ? '0' : lexeme;
}

/** Compact JSON as Jackson writes the tree: `floats` says how fractions are written (see the file comment). */
export function writeJackson(v: LexJson | undefined, floats: 'double' | 'bigdecimal'): string {
  if (v instanceof NumberLexeme) {
    if (v.isInteger) return javaInteger(v.lexeme);
    return floats === 'double' ? javaDoubleToString(v.value) : javaBigDecimalToString(v.lexeme);
  }
  if (Array.isArray(v)) return `[${v.map((x) => writeJackson(x, floats)).join(',')}]`;
  if (typeof v === 'object' && v !== null) return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}:${writeJackson(x, floats)}`).join(',')}}`;
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : floats === 'double' ? javaDoubleToString(v) : String(v);
  return JSON.stringify(v ?? null);
}
