const so = Session();
so.visits = ((so.visits as number | undefined) ?? 0) + 1;
print(`<p>visit number ${so.visits}</p>`);
