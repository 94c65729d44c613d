"""What people see in JupyterLab and Voila: charts, slider panels, the what-if panel."""
