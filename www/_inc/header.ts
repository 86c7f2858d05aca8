// An included script: same request, same QUERY and Session(), plus the names passed to Include.
import { pageTop } from '../_lib/layout.ts';

print(pageTop(title));
