print('<h1>Hello world</h1>');
