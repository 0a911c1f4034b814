CREATE INDEX items_by_hidden ON items (hidden);
