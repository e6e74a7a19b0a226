import type { ReactNode } from 'react';
import { OverviewPage } from './pages/OverviewPage';
import { ContactPage } from './pages/contacts/ContactPage';
import { ContactsPage } from './pages/contacts/ContactsPage';
import { ImportJobPage } from './pages/contacts/ImportJobPage';
import { ImportPage } from './pages/contacts/ImportPage';
import { ListPage } from './pages/ListPage';
import { ListsPage } from './pages/ListsPage';
import { SegmentPage } from './pages/segments/SegmentPage';
import { SegmentsPage } from './pages/segments/SegmentsPage';
import { SuppressionsPage } from './pages/SuppressionsPage';
import { TagsPage } from './pages/TagsPage';

export type NavSection = 'Audience' | 'Messages' | 'Activity' | 'Settings';

/**
 * Every signed-in page: its path under /app/, and where it sits in the navigation. A page with a
 * `label` gets a navigation link; detail pages (`contacts/:id`) have none.
 *
 * Registration point: add a page with one entry here (and its import).
 */
export interface PageRoute {
  path: string;
  element: ReactNode;
  label?: string;
  section?: NavSection;
}

export const pages: PageRoute[] = [
  { path: '', label: 'Overview', element: <OverviewPage /> },
  // Audience
  { path: 'contacts', label: 'Contacts', section: 'Audience', element: <ContactsPage /> },
  { path: 'contacts/import', element: <ImportPage /> },
  { path: 'contacts/imports/:id', element: <ImportJobPage /> },
  { path: 'contacts/:id', element: <ContactPage /> },
  { path: 'lists', label: 'Lists', section: 'Audience', element: <ListsPage /> },
  { path: 'lists/:id', element: <ListPage /> },
  { path: 'tags', label: 'Tags', section: 'Audience', element: <TagsPage /> },
  { path: 'segments', label: 'Segments', section: 'Audience', element: <SegmentsPage /> },
  { path: 'segments/:id', element: <SegmentPage /> },
  { path: 'suppressions', label: 'Suppressions', section: 'Audience', element: <SuppressionsPage /> },
];
