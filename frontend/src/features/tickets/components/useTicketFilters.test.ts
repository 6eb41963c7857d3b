import { describe, expect, it } from 'vitest';
import { applyChanges, filtersFromParams, listQuery, PAGE_SIZE } from './useTicketFilters';

describe('ticket filters in the URL', () => {
  it('reads repeated statuses and priorities, the assignee and the sort', () => {
    const params = new URLSearchParams(
      'status=new&status=open&status=bogus&priority=urgent&assignee=me&sort=priority&page=2',
    );
    const filters = filtersFromParams(params);
    expect(filters.status).toEqual(['new', 'open']);
    expect(filters.priority).toEqual(['urgent']);
    expect(filters.assignee).toBe('me');
    expect(filters.sort).toBe('priority');
    expect(listQuery(filters)).toEqual({
      page: 2,
      page_size: PAGE_SIZE,
      status: ['new', 'open'],
      priority: ['urgent'],
      assignee: 'me',
      sort: 'priority',
    });
  });

  it('ignores an unknown sort and sends no empty filters', () => {
    const filters = filtersFromParams(new URLSearchParams('sort=random&q=%20'));
    expect(filters.sort).toBeNull();
    expect(listQuery(filters)).toEqual({ page: 1, page_size: PAGE_SIZE });
  });

  it('writes lists as repeated keys and goes back to page 1 on a change', () => {
    const before = new URLSearchParams('status=closed&page=3&q=refund');
    const next = applyChanges(before, { status: ['new', 'pending'], sort: 'oldest_waiting' });
    expect(next.getAll('status')).toEqual(['new', 'pending']);
    expect(next.get('sort')).toBe('oldest_waiting');
    expect(next.get('page')).toBeNull();
    expect(next.get('q')).toBe('refund');
    const cleared = applyChanges(next, { status: [], sort: null });
    expect(cleared.has('status')).toBe(false);
    expect(cleared.has('sort')).toBe(false);
  });

  it('pages by cursor instead of page number, and a filter change starts at the top', () => {
    const filters = filtersFromParams(new URLSearchParams('sort=priority&cursor=t1.abc'));
    expect(filters.cursor).toBe('t1.abc');
    expect(listQuery(filters)).toEqual({
      cursor: 't1.abc',
      page_size: PAGE_SIZE,
      sort: 'priority',
    });
    const paged = applyChanges(new URLSearchParams('page=3'), { cursor: 't1.next' });
    expect(paged.get('cursor')).toBe('t1.next');
    expect(paged.get('page')).toBeNull();
    const changed = applyChanges(new URLSearchParams('cursor=t1.next&q=a'), { q: 'b' });
    expect(changed.get('cursor')).toBeNull();
    expect(changed.get('q')).toBe('b');
  });
});
