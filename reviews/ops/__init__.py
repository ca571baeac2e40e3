"""Operations: the periodic sweep that keeps "nothing lost" true."""
