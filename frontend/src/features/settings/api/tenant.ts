//! Workspace settings (admin): name and the policies used in reply drafts.
import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '@/lib/api/client';
import { queryKeys } from '@/lib/api/keys';
import type { Tenant } from '@/lib/api/types';
import { useAuth } from '@/lib/auth/context';

export function fetchTenant(): Promise<Tenant> {
  return unwrap(api.GET('/tenant'));
}

export const tenantQueryOptions = queryOptions({
  queryKey: queryKeys.tenant,
  queryFn: fetchTenant,
});

export function useTenant() {
  return useQuery(tenantQueryOptions);
}

export function updateTenant(body: { name?: string; policies?: string }): Promise<Tenant> {
  return unwrap(api.PATCH('/tenant', { body }));
}

export function useUpdateTenant() {
  const client = useQueryClient();
  const { updateTenant: setAuthTenant } = useAuth();
  return useMutation({
    mutationFn: updateTenant,
    onSuccess: (tenant) => {
      client.setQueryData(queryKeys.tenant, tenant);
      setAuthTenant(tenant);
    },
  });
}
