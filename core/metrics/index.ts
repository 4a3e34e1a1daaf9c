export { Metrics, WHARF_VERSION } from './metrics.ts';
export { WHARF, WHARF_HISTOGRAMS } from './families.ts';
export { ScrapeFamily, type Contributor, type Emit, type FamilySpec, type FamilyType, type Labels } from './scrape-family.ts';
export { LabelCache, LabelSet } from './label-set.ts';
export { BlockScratch, SeriesBlock } from './series-block.ts';
export { ChangeMark } from './change-mark.ts';
export { HistogramSeries, LatencyHistogram, LATENCY_BUCKETS, type HistogramSpec } from './latency-histogram.ts';
