import { Select } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { get } from '../api/client';
import type { ContactSummary, Paged } from '../api/messages';

function labelOf(c: ContactSummary): string {
  const name = [c.firstName, c.lastName].filter(Boolean).join(' ');
  return name ? `${name} <${c.email}>` : c.email;
}

/** Pick one contact by typing part of an email or name (GET /contacts?q=…). */
export function ContactPicker({
  label = 'Contact',
  value,
  onChange,
  description,
  disabled,
}: {
  label?: string;
  value: number | null;
  onChange: (id: number | null) => void;
  description?: string;
  disabled?: boolean;
}) {
  const [search, setSearch] = useState('');
  const [debounced] = useDebouncedValue(search, 250);
  const [chosen, setChosen] = useState<ContactSummary | null>(null);
  const { data, isFetching } = useQuery({
    queryKey: ['contacts', 'picker', debounced],
    queryFn: ({ signal }) => get<Paged<ContactSummary>>('/contacts', { q: debounced, limit: 20 }, signal),
  });
  const rows = data?.data ?? [];
  const options = rows.map((c) => ({ value: String(c.id), label: labelOf(c) }));
  if (chosen && value === chosen.id && !rows.some((r) => r.id === chosen.id)) options.unshift({ value: String(chosen.id), label: labelOf(chosen) });
  return (
    <Select
      label={label}
      description={description}
      placeholder="Search by email or name"
      searchable
      clearable
      disabled={disabled}
      data={options}
      value={value === null ? null : String(value)}
      onChange={(v) => {
        const id = v ? Number(v) : null;
        setChosen(rows.find((r) => r.id === id) ?? null);
        onChange(id);
      }}
      onSearchChange={setSearch}
      filter={({ options: o }) => o}
      nothingFoundMessage={isFetching ? 'Searching…' : 'No contact matches'}
    />
  );
}
