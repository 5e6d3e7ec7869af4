import { DataSource } from 'typeorm';

/** The URL the app's DataSource was built with (DATABASE_URL, the embedded server or a test database). */
export const databaseUrlOf = (dataSource: DataSource): string => {
  const url = (dataSource.options as { url?: string }).url;
  if (!url) throw new Error('the DataSource has no url: the realtime module needs one for LISTEN/NOTIFY');
  return url;
};
