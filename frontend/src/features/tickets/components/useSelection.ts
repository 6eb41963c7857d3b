//! Row selection for bulk actions: click toggles a row, shift-click selects (or clears) the range
//! from the last row clicked, and "all" selects every row shown.
import { useCallback, useMemo, useState } from 'react';

export interface Selection {
  selected: ReadonlySet<string>;
  /** Toggles `id`; with `range`, gives every row between the last one clicked and `id` the
   * new state of `id`. */
  toggle: (id: string, range: boolean) => void;
  /** Selects every row shown, or clears the selection when all are selected. */
  toggleAll: () => void;
  clear: () => void;
  /** Keeps only these ids selected (e.g. the tickets a bulk action could not change). */
  keep: (ids: readonly string[]) => void;
  allSelected: boolean;
  someSelected: boolean;
}

/** Selection over `ids` (the rows shown, in order); ids no longer shown drop out. */
export function useSelection(ids: readonly string[]): Selection {
  const [raw, setRaw] = useState<ReadonlySet<string>>(new Set());
  const [anchor, setAnchor] = useState<string | null>(null);

  const selected = useMemo(() => new Set(ids.filter((id) => raw.has(id))), [ids, raw]);

  const toggle = useCallback(
    (id: string, range: boolean) => {
      setRaw((current) => {
        const next = new Set(current);
        const on = !current.has(id);
        const from = anchor ? ids.indexOf(anchor) : -1;
        const to = ids.indexOf(id);
        if (range && from >= 0 && to >= 0) {
          const [lo, hi] = from < to ? [from, to] : [to, from];
          for (const rowId of ids.slice(lo, hi + 1)) {
            if (on) next.add(rowId);
            else next.delete(rowId);
          }
        } else if (on) next.add(id);
        else next.delete(id);
        return next;
      });
      setAnchor(id);
    },
    [anchor, ids],
  );

  const allSelected = ids.length > 0 && selected.size === ids.length;
  const toggleAll = useCallback(() => {
    setRaw(allSelected ? new Set() : new Set(ids));
    setAnchor(null);
  }, [allSelected, ids]);
  const clear = useCallback(() => {
    setRaw(new Set());
    setAnchor(null);
  }, []);
  const keep = useCallback((keepIds: readonly string[]) => setRaw(new Set(keepIds)), []);

  return {
    selected,
    toggle,
    toggleAll,
    clear,
    keep,
    allSelected,
    someSelected: selected.size > 0 && !allSelected,
  };
}
