/** Java's String.hashCode over UTF-16 code units: Kafka's placements hash with it, and so they are stable across brokers and restarts. */
export function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}
