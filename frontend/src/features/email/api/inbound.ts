//! The workspace's inbound email address (admin): the secret URL an MTA or forwarding service
//! posts raw messages to, and its rotation.
import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '@/lib/api/client';
import { queryKeys } from '@/lib/api/keys';
import type { InboundAddress } from '@/lib/api/types';

export function fetchInboundAddress(): Promise<InboundAddress> {
  return unwrap(api.GET('/settings/email/inbound'));
}

export const inboundAddressQueryOptions = queryOptions({
  queryKey: queryKeys.inboundAddress,
  queryFn: fetchInboundAddress,
});

export function useInboundAddress() {
  return useQuery(inboundAddressQueryOptions);
}

export function rotateInboundAddress(): Promise<InboundAddress> {
  return unwrap(api.POST('/settings/email/inbound/rotate'));
}

export function useRotateInboundAddress() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: rotateInboundAddress,
    onSuccess: (address) => client.setQueryData(queryKeys.inboundAddress, address),
  });
}
