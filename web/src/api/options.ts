import { useQuery } from '@tanstack/react-query';
import { get } from './client';
import type { MailingList, Named, Paged, SendingConfig, Template } from './messages';

/**
 * The first 100 of a site's lists, tags, segments, sending configs or templates, for pickers. Sites with
 * more than 100 of one kind are rare; the picker says when the list is cut.
 */
export function usePickerOptions<T extends Named = Named>(path: '/lists' | '/tags' | '/segments' | '/sending-configs' | '/templates') {
  return useQuery({
    queryKey: [path.slice(1), 'picker'],
    queryFn: ({ signal }) => get<Paged<T>>(path, { limit: 100 }, signal),
    staleTime: 30_000,
  });
}

export const useLists = () => usePickerOptions<MailingList>('/lists');
export const useTags = () => usePickerOptions('/tags');
export const useSegments = () => usePickerOptions('/segments');
export const useSendingConfigs = () => usePickerOptions<SendingConfig>('/sending-configs');
export const useTemplates = () => usePickerOptions<Template>('/templates');

export const toSelectData = (rows: Named[] | undefined) => (rows ?? []).map((r) => ({ value: String(r.id), label: r.name }));
