-- Tree URLs are stored without credentials (domain/publicUrl.ts): the dashboard,
-- its API and the mails show them. Rows written before lose theirs here.
UPDATE trees SET url = regexp_replace(url, '^([a-zA-Z][a-zA-Z0-9+.-]*://)[^/?#]*@', '\1')
  WHERE url ~ '^[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*@';
