// `nvmebench explain`: one engine against a baseline, layer by layer, the
// largest difference first, and the sentence people want: "pt-poll saves
// 38 ns/IO in the block layer and spends 12 more in the NVMe driver".
import type { CellExplain } from '../analysis/explain.js';
import { LAYERS, LAYER_TITLES, type Layer } from './layers.js';

export interface LayerDiff {
  layer: Layer;
  baseNsPerIo: number;
  nsPerIo: number;
  /** nsPerIo - baseNsPerIo: negative saves. */
  diff: number;
}

export function diffLayers(base: CellExplain, other: CellExplain): LayerDiff[] {
  return LAYERS.map((layer) => {
    const b = base.layers[layer]?.nsPerIo ?? 0;
    const o = other.layers[layer]?.nsPerIo ?? 0;
    return { layer, baseNsPerIo: b, nsPerIo: o, diff: o - b };
  })
    .filter((d) => d.baseNsPerIo > 0 || d.nsPerIo > 0)
    .sort((a, b) => Math.abs(b.diff) - Math.abs(a.diff) || LAYERS.indexOf(a.layer) - LAYERS.indexOf(b.layer));
}

const round = (x: number): string => (Math.abs(x) >= 10 ? Math.abs(x).toFixed(0) : Math.abs(x).toFixed(1));

/**
 * "<engine> saves A ns/IO in <the largest saving> and spends B more in <the
 * largest extra>", then the net over all layers. Differences under 1% of the
 * baseline's CPU are noise at the sample counts we take and are left out.
 */
export function diffSentence(engine: string, baseline: string, diffs: LayerDiff[], base: CellExplain, other: CellExplain): string {
  const floor = Math.max(0.5, base.sampledNsPerIo * 0.01);
  const saves = diffs.filter((d) => d.diff <= -floor).sort((a, b) => a.diff - b.diff);
  const spends = diffs.filter((d) => d.diff >= floor).sort((a, b) => b.diff - a.diff);
  const where = (d: LayerDiff): string => `the ${LAYER_TITLES[d.layer]}`;
  const parts: string[] = [];
  if (saves.length) parts.push(`saves ${round(saves[0].diff)} ns/IO in ${where(saves[0])}`);
  if (spends.length) parts.push(`spends ${round(spends[0].diff)} ${saves.length ? 'more' : 'ns/IO more'} in ${where(spends[0])}`);
  const net = other.sampledNsPerIo - base.sampledNsPerIo;
  const netText = `${round(net)} ns/IO ${net <= 0 ? 'less' : 'more'} in all (${base.sampledNsPerIo ? ((Math.abs(net) / base.sampledNsPerIo) * 100).toFixed(1) : '0'}%)`;
  if (!parts.length) return `${engine} spends what ${baseline} spends in every layer, within 1%; ${netText}`;
  return `${engine} ${parts.join(' and ')} than ${baseline}; ${netText}`;
}
