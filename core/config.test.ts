import { describe, expect, it } from 'vitest';
import { buildConfigSchema, field, layerFromEnv, layerFromFlags, resolveConfig, type ConfigSection } from './config.ts';
import { BrokerError } from './errors.ts';

const kafka: ConfigSection = { name: 'kafka', fields: { port: field.port(9092, 'port'), autoCreateTopics: field.boolean(true, 'auto') } };
const schema = buildConfigSchema([kafka]);

describe('configuration', () => {
  it('applies defaults < file < env < flags', () => {
    const config = resolveConfig(schema, [
      { source: 'file.json', values: { dataDir: '/file', kafka: { port: 1000, autoCreateTopics: false }, topics: { partitions: 3 } } },
      layerFromEnv({ WHARF_DATA_DIR: '/env', WHARF_KAFKA_PORT: '2000', HOME: '/root' }, schema),
      layerFromFlags(['--kafka-port', '3000', '--topics-flush=interval:50', '--log-level', 'warn'], schema),
    ]);
    expect(config.dataDir).toBe('/env');
    expect(config.logLevel).toBe('warn');
    expect(config.storage).toBe('fs');
    expect(config.kafka).toEqual({ port: 3000, autoCreateTopics: false });
    expect(config.topics.partitions).toBe(3);
    expect(config.topics.flush).toEqual({ kind: 'interval', ms: 50 });
    expect(config.topics.retentionMs).toBe(7 * 24 * 3600 * 1000);
  });

  it('maps multi-word sections and keys, and accepts port 0 and auto', () => {
    const layer = layerFromFlags(['--topics-segment-bytes', '2048', '--kafka-auto-create-topics', 'false', '--kafka-port', '0'], schema);
    expect(layer.values).toEqual({ topics: { segmentBytes: '2048' }, kafka: { autoCreateTopics: 'false', port: '0' } });
    const config = resolveConfig(schema, [layer, { source: 'code', values: { kafka: { port: 'auto' } } }]);
    expect(config.topics.segmentBytes).toBe(2048);
    expect(config.kafka).toEqual({ port: 'auto', autoCreateTopics: false });
  });

  it('skips and lists WHARF_* variables that name no key, but still rejects their bad values', () => {
    const layer = layerFromEnv({ WHARF_NOPE: '1', WHARF_KAFKA_PROT: '1', WHARF_KAFKA_PORT: '2000', WHARF_CONFIG: 'x.json', PATH: '/bin' }, schema);
    expect(layer.values).toEqual({ kafka: { port: '2000' } });
    expect(layer.ignored).toEqual(['WHARF_NOPE', 'WHARF_KAFKA_PROT']);
    expect(layerFromEnv({ WHARF_KAFKA_PORT: '1' }, schema).ignored).toBeUndefined();
    expect(() => resolveConfig(schema, [layerFromEnv({ WHARF_KAFKA_PORT: 'x' }, schema)])).toThrow(/environment: kafka\.port/);
  });

  it('rejects unknown keys and bad values with the source named', () => {
    const fails = (fn: () => unknown, code: string, text: RegExp) => {
      try {
        fn();
        expect.unreachable();
      } catch (err) {
        expect(BrokerError.is(err)).toBe(true);
        expect((err as BrokerError).code).toBe(code);
        expect((err as Error).message).toMatch(text);
      }
    };
    fails(() => resolveConfig(schema, [{ source: 'a.json', values: { dataDri: 'x' } }]), 'CONFIG_UNKNOWN_KEY', /a\.json.*dataDri/);
    fails(() => resolveConfig(schema, [{ source: 'a.json', values: { kafka: { prot: 1 } } }]), 'CONFIG_UNKNOWN_KEY', /kafka\.prot/);
    fails(() => layerFromFlags(['--amqp-port', '1'], schema), 'CONFIG_UNKNOWN_KEY', /--amqp-port/);
    fails(() => resolveConfig(schema, [layerFromFlags(['--kafka-port', '70000'], schema)]), 'CONFIG_INVALID', /flags: kafka\.port/);
    fails(() => resolveConfig(schema, [layerFromFlags(['--storage', 'tape'], schema)]), 'CONFIG_INVALID', /storage/);
    fails(() => resolveConfig(schema, [layerFromFlags(['--topics-flush', 'sometimes'], schema)]), 'CONFIG_INVALID', /flush/);
    fails(() => layerFromFlags(['--data-dir'], schema), 'CONFIG_INVALID', /needs a value/);
    fails(() => buildConfigSchema([kafka, kafka]), 'PLUGIN_INVALID', /twice/);
  });
});
