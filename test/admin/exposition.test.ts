import { describe, expect, it } from 'vitest';
import { LabelSet, LatencyHistogram, ScrapeFamily, SeriesBlock } from '../../core/index.ts';
import { ExpositionWriter } from '../../core/metrics/exposition.ts';

describe('Prometheus exposition writer', () => {
  it('writes a block of series anew when a value or a label set changed, the same lines when none did, none for NaN', () => {
    const family = new ScrapeFamily({ name: 'wharf_block', help: 'h', type: 'gauge', labelNames: ['partition'] }, () => undefined);
    const labels = [0, 1, 2].map((partition) => new LabelSet({ partition }));
    const block = new SeriesBlock();
    let current = [5, 7, Number.NaN];
    let currentLabels = labels;
    family.contribute((emit) => emit.block(block, Float64Array.from(current), currentLabels, current.length));
    const scrape = () => {
      const out = new ExpositionWriter();
      family.writeTo(out);
      return out.toBuffer().toString().split('\n').filter((l) => l.startsWith('wharf_block{'));
    };
    expect(scrape()).toEqual(['wharf_block{partition="0"} 5', 'wharf_block{partition="1"} 7']);
    expect(scrape()).toEqual(['wharf_block{partition="0"} 5', 'wharf_block{partition="1"} 7']);
    current = [5, 8, 1];
    expect(scrape()).toEqual(['wharf_block{partition="0"} 5', 'wharf_block{partition="1"} 8', 'wharf_block{partition="2"} 1']);
    current = [5, 8, Number.NaN];
    expect(scrape()).toEqual(['wharf_block{partition="0"} 5', 'wharf_block{partition="1"} 8']);
    currentLabels = [labels[0]!, new LabelSet({ partition: 9 }), labels[2]!];
    expect(scrape()).toEqual(['wharf_block{partition="0"} 5', 'wharf_block{partition="9"} 8']);
    current = [5];
    expect(scrape()).toEqual(['wharf_block{partition="0"} 5']);
  });

  it('writes escaped labels, drops the series of a contributor that throws, and keeps the others', () => {
    const failures: string[] = [];
    const family = new ScrapeFamily({ name: 'wharf_test', help: 'a test\nfamily with a \\', type: 'gauge', labelNames: ['queue', 'n'] }, (_err, name) => failures.push(name));
    family.contribute((emit) => emit(1, { queue: 'say "hi"\\\n', n: 7 }));
    family.contribute((emit) => {
      emit(2, { queue: 'lost' });
      throw new Error('broken contributor');
    });
    family.contribute((emit) => {
      emit(Number.POSITIVE_INFINITY);
      emit(Number.NaN, { queue: 'q' });
    });
    const out = new ExpositionWriter();
    family.writeTo(out);
    expect(out.toBuffer().toString()).toBe(
      [
        '# HELP wharf_test a test\\nfamily with a \\\\',
        '# TYPE wharf_test gauge',
        'wharf_test{queue="say \\"hi\\"\\\\\\n",n="7"} 1',
        'wharf_test +Inf',
        'wharf_test{queue="q"} NaN',
        '',
      ].join('\n'),
    );
    expect(failures).toEqual(['wharf_test']);
  });

  it('writes histograms with cumulative buckets, and text longer than its chunks', () => {
    const histogram = new LatencyHistogram({ name: 'wharf_latency_seconds', help: 'h', labelNames: ['api'], buckets: [0.1, 1] });
    const series = histogram.labels({ api: 'Produce' });
    for (const seconds of [0.05, 0.5, 0.5, 3]) series.observe(seconds);
    const out = new ExpositionWriter();
    histogram.writeTo(out);
    const long = `${'x'.repeat(3 * 1024 * 1024)}\n`;
    out.write(long);
    out.write('é\n');
    expect(out.toBuffer().toString()).toBe(
      [
        '# HELP wharf_latency_seconds h',
        '# TYPE wharf_latency_seconds histogram',
        'wharf_latency_seconds_bucket{api="Produce",le="0.1"} 1',
        'wharf_latency_seconds_bucket{api="Produce",le="1"} 3',
        'wharf_latency_seconds_bucket{api="Produce",le="+Inf"} 4',
        'wharf_latency_seconds_sum{api="Produce"} 4.05',
        'wharf_latency_seconds_count{api="Produce"} 4',
        '',
      ].join('\n') + long + 'é\n',
    );
  });
});
