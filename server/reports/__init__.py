"""Analysis reports (月度/季度/年度服务分析) per estate and for the company: figures, HTML, XLSX, PDF."""
