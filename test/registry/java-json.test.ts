/**
 * Numbers in canonical strings as Confluent's Java code writes them (java-json.ts). Vectors: the examples
 * of the Java SE API documentation for Double.toString (plain between 10^-3 and 10^7, "computerized
 * scientific notation" outside) and for BigDecimal(String) / BigDecimal.toString (the [unscaled, scale]
 * tables), then schemas through the Avro and JSON Schema parsers.
 */
import { describe, expect, it } from 'vitest';
import { parseAvro } from '../../src/registry/avro.js';
import { javaBigDecimalToString, javaDoubleToString, parseLexJson, writeJackson } from '../../src/registry/java-json.js';
import { parseJsonSchema } from '../../src/registry/json-schema.js';

describe("Java's Double.toString", () => {
  it('plain between 10^-3 and 10^7 with at least one fraction digit, scientific outside', () => {
    expect(javaDoubleToString(1)).toBe('1.0');
    expect(javaDoubleToString(100)).toBe('100.0');
    expect(javaDoubleToString(9999999)).toBe('9999999.0');
    expect(javaDoubleToString(1e7)).toBe('1.0E7');
    expect(javaDoubleToString(123456789)).toBe('1.23456789E8');
    expect(javaDoubleToString(0.001)).toBe('0.001');
    expect(javaDoubleToString(0.0001)).toBe('1.0E-4');
    expect(javaDoubleToString(1.5e-7)).toBe('1.5E-7');
    expect(javaDoubleToString(-2.5)).toBe('-2.5');
    expect(javaDoubleToString(0)).toBe('0.0');
    expect(javaDoubleToString(-0)).toBe('-0.0');
    expect(javaDoubleToString(0.1)).toBe('0.1');
  });
});

describe("Java's BigDecimal.toString of a JSON number", () => {
  it('the BigDecimal(String) examples of the Java API documentation', () => {
    const table: [string, string][] = [
      ['0', '0'],
      ['0.00', '0.00'],
      ['123', '123'],
      ['-123', '-123'],
      ['1.23E3', '1.23E+3'],
      ['1.23E+3', '1.23E+3'],
      ['12.3E+7', '1.23E+8'],
      ['12.0', '12.0'],
      ['12.3', '12.3'],
      ['0.00123', '0.00123'],
      ['-1.23E-12', '-1.23E-12'],
      ['1234.5E-4', '0.12345'],
      ['0E+7', '0E+7'],
      ['-0', '0'],
    ];
    for (const [lexeme, printed] of table) expect(javaBigDecimalToString(lexeme), lexeme).toBe(printed);
  });

  it('the BigDecimal.toString table ([unscaled, scale] written as JSON numbers)', () => {
    expect(javaBigDecimalToString('123e1')).toBe('1.23E+3');
    expect(javaBigDecimalToString('123e3')).toBe('1.23E+5');
    expect(javaBigDecimalToString('0.00123')).toBe('0.00123');
    expect(javaBigDecimalToString('123e-10')).toBe('1.23E-8');
    expect(javaBigDecimalToString('-123e-12')).toBe('-1.23E-10');
    // The plain/scientific boundary: adjusted exponent -6 is plain, -7 scientific.
    expect(javaBigDecimalToString('0.000001')).toBe('0.000001');
    expect(javaBigDecimalToString('0.0000001')).toBe('1E-7');
  });
});

describe('parsing with numbers kept as written', () => {
  it('keeps fractions, big integers and key order; writes strings as JSON.stringify', () => {
    const text = ' { "b" : 1.0, "a": [12345678901234567890, -0, 1e3], "s": "q\\"\\u0001é" } ';
    const lex = parseLexJson(text);
    expect(writeJackson(lex, 'bigdecimal')).toBe('{"b":1.0,"a":[12345678901234567890,0,1E+3],"s":"q\\"\\u0001é"}');
    expect(writeJackson(lex, 'double')).toBe('{"b":1.0,"a":[12345678901234567890,0,1000.0],"s":"q\\"\\u0001é"}');
    expect(() => parseLexJson('{"a":1,}')).toThrow(SyntaxError);
    expect(() => parseLexJson('[1] x')).toThrow(SyntaxError);
  });
});

describe('canonical strings keep Java numbers', () => {
  it('Avro: a default of 0.0 stays 0.0 (Double.toString), 1e3 is 1000.0, and 0.0 and 0 are two schemas', () => {
    const schema = (d: string): string => `{"type":"record","name":"R","fields":[{"name":"p","type":"double","default":${d},"x-scale":1.50}]}`;
    expect(parseAvro(schema('0.0')).canonical).toBe('{"type":"record","name":"R","fields":[{"name":"p","type":"double","default":0.0,"x-scale":1.5}]}');
    expect(parseAvro(schema('1e3')).canonical).toContain('"default":1000.0');
    expect(parseAvro(schema('0')).canonical).toContain('"default":0,');
    expect(parseAvro(schema('0')).canonical).not.toBe(parseAvro(schema('0.0')).canonical);
  });

  it('JSON Schema: fractions as exact BigDecimals (1.0 stays 1.0, 1e3 is 1E+3), integers as written', () => {
    const parsed = parseJsonSchema('{"type":"number","minimum":1.0,"maximum":1e3,"multipleOf":0.50,"const":12345678901234567890}');
    expect(parsed.canonical).toBe('{"type":"number","minimum":1.0,"maximum":1E+3,"multipleOf":0.50,"const":12345678901234567890}');
    expect(parsed.normalize().canonical).toBe('{"const":12345678901234567890,"maximum":1E+3,"minimum":1.0,"multipleOf":0.50,"type":"number"}');
  });
});
